"""The healing graph for LangGraph Studio and the LangGraph CLI (`langgraph dev`), named in langgraph.json.

`make_graph` is a graph factory: the LangGraph server calls it (to run, to read state, to draw
the graph), so importing this module touches nothing and each call builds the graph over the
cluster the settings name, compiled without a checkpointer (the server brings its own).

Which cluster, in this order:
1. the one `PARAMEDIC_*` settings (and the YAML file `PARAMEDIC_CONFIG` names) point at:
   `cluster.kubeconfig`/`cluster.context` or `cluster.in_cluster`;
2. else a running `paramedic sandbox up` (its state file: kubeconfig, and its GitOps
   repository as the local Git source unless Git is configured);
3. else the default kubeconfig (`~/.kube/config`, or in-cluster when in a pod).
Building the graph only reads configuration; nothing talks to the cluster until a run does.
With none of them, the factory fails with an error that says what to set.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

from langchain_core.runnables import RunnableConfig

from agent.cluster import kube_client
from agent.config import Settings, load_settings
from graph.builder import CompiledHealingGraph, compile_graph
from graph.context import HealingContext
from graph.context_factory import build_context
from paramedic.sandbox_wiring import default_state_path, read_state
from server.runstore import open_run_store
from tools.kubernetes import KubeConfigError

CONFIG_ENV = "PARAMEDIC_CONFIG"


def studio_settings() -> Settings:
    """Settings from the environment and the YAML file `$PARAMEDIC_CONFIG` names, aimed at a
    running sandbox when they name no cluster and one is up."""
    config = os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(config) if config else None)
    cluster = settings.cluster
    if cluster.kubeconfig is not None or cluster.context is not None or cluster.in_cluster:
        return settings
    state = read_state(default_state_path()) or {}
    kubeconfig = state.get("kubeconfig")
    if not isinstance(kubeconfig, str) or not Path(kubeconfig).is_file():
        return settings
    update: dict[str, Any] = {"cluster": cluster.model_copy(update={"kubeconfig": Path(kubeconfig)})}
    repo = state.get("repo")
    git = settings.git
    if isinstance(repo, str) and git.local_path is None and not git.github_repo:
        update["git"] = git.model_copy(update={"provider": "local", "local_path": Path(repo)})
    return settings.model_copy(update=update)


def make_graph(config: RunnableConfig) -> Any:
    """The compiled healing graph over the cluster `studio_settings` name (see the module docstring).

    `config` is the run's config, which LangGraph passes to a factory; the graph does not depend on it.
    """
    settings = studio_settings()
    try:
        kube = kube_client(settings.cluster)
    except KubeConfigError as exc:
        raise KubeConfigError(
            f"{exc}. Point Paramedic at a cluster: set PARAMEDIC_CLUSTER__KUBECONFIG (or "
            f"{CONFIG_ENV} to a settings file), or start the sandbox with `paramedic sandbox up`."
        ) from exc
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # the default SQLite run store lives there
    # The breakers live in the configured run store, shared with `paramedic serve` on the same store;
    # the store stays open for the life of the LangGraph server process that asked for this graph.
    breakers = open_run_store(settings.resolved_storage_url()).breakers
    graph = compile_graph()
    graph.__class__ = StudioGraph
    studio = cast(StudioGraph, graph)  # the same object, now with the two doors below
    studio.studio_context = build_context(settings, kube=kube, breaker_store=breakers)
    return studio


class StudioGraph(CompiledHealingGraph):
    """The compiled healing graph with its runtime context bound.

    The LangGraph server passes a run's `context` as JSON from the caller, but the healing
    context holds live clients (Kubernetes, Git, the reasoner), which no JSON can carry; so a run
    the server starts without one gets the context this factory built. `invoke`/`ainvoke` go
    through `stream`/`astream`, so these two are the only doors.
    """

    studio_context: HealingContext

    def stream(self, input: Any, config: Any = None, *, context: Any = None, **kwargs: Any) -> Any:
        """`CompiledStateGraph.stream` with the bound context unless the caller brings one."""
        return super().stream(input, config, context=context or self.studio_context, **kwargs)

    def astream(self, input: Any, config: Any = None, *, context: Any = None, **kwargs: Any) -> Any:
        """`CompiledStateGraph.astream` with the bound context unless the caller brings one."""
        return super().astream(input, config, context=context or self.studio_context, **kwargs)
