"""langgraph.json names the healing graph, and its path loads the way the LangGraph server loads it.

The loader below does what the LangGraph API server does with a `./file.py:name` graph path: it
executes the file as a fresh module under a made-up name (so only absolute imports work), takes
the attribute, and calls it when it is a factory (with the run's config when it takes one). The
graph must then build with default settings and no live cluster: a kubeconfig pointing at a
port nothing listens on, since building the graph only reads configuration.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from graph.builder import build_graph
from paramedic.studio import studio_settings
from tools.kubernetes import KubeConfigError

ROOT = Path(__file__).resolve().parents[2]


def _langgraph_json() -> dict[str, Any]:
    return json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))


def _load_graph(spec: str) -> Any:
    """`./path/file.py:name` -> the compiled graph, as the LangGraph server resolves it."""
    path, _, name = spec.rpartition(":")
    modname = "lg_" + uuid.uuid4().hex  # the server also uses a name of its own, not the package's
    modspec = importlib.util.spec_from_file_location(modname, ROOT / path)
    assert modspec is not None and modspec.loader is not None
    module = importlib.util.module_from_spec(modspec)
    sys.modules[modname] = module
    try:
        modspec.loader.exec_module(module)
        value = module.__dict__[name]
        if isinstance(value, Pregel):
            return value
        if isinstance(value, StateGraph):
            return value.compile()
        assert callable(value), f"{spec} is neither a graph nor a graph factory"
        params = inspect.signature(value).parameters
        return value({"configurable": {}}) if params else value()
    finally:
        sys.modules.pop(modname, None)


@pytest.fixture
def no_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Default settings; no default kubeconfig, no sandbox running, data under tmp_path."""
    for name in ("PARAMEDIC_CONFIG", "KUBERNETES_SERVICE_HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    monkeypatch.setenv("PARAMEDIC_SANDBOX_STATE", str(tmp_path / "no-sandbox.json"))
    monkeypatch.setenv("PARAMEDIC_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def _kubeconfig(path: Path) -> Path:
    """A kubeconfig for an API server that is not there (a closed loopback port)."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "gone", "cluster": {"server": "http://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
                "current-context": "gone",
            }
        )
    )
    return path


def test_langgraph_json_is_what_the_langgraph_cli_reads() -> None:
    config = _langgraph_json()
    assert config["dependencies"] == ["."]
    assert set(config["graphs"]) == {"paramedic"}
    path, _, name = config["graphs"]["paramedic"].rpartition(":")
    assert path.startswith("./") and (ROOT / path).is_file() and name


def test_the_graph_path_builds_the_healing_graph_without_a_live_cluster(
    no_cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARAMEDIC_CLUSTER__KUBECONFIG", str(_kubeconfig(no_cluster / "kubeconfig")))
    graph = _load_graph(_langgraph_json()["graphs"]["paramedic"])
    assert isinstance(graph, Pregel)
    assert set(graph.get_graph().nodes) == {*build_graph().nodes, "__start__", "__end__"}
    assert graph.context_schema is not None
    # `langgraph dev` refuses a graph compiled with its own checkpointer: the server brings one.
    assert graph.checkpointer is None


def test_with_no_cluster_anywhere_the_error_says_what_to_set(no_cluster: Path) -> None:
    with pytest.raises(KubeConfigError, match=r"PARAMEDIC_CLUSTER__KUBECONFIG.*paramedic sandbox up"):
        _load_graph(_langgraph_json()["graphs"]["paramedic"])


def test_a_running_sandbox_is_used_when_the_settings_name_no_cluster(no_cluster: Path) -> None:
    kubeconfig = _kubeconfig(no_cluster / "sandbox-kubeconfig")
    state = {"kubeconfig": str(kubeconfig), "repo": str(no_cluster / "gitops"), "control_url": "x"}
    (no_cluster / "no-sandbox.json").write_text(json.dumps(state))
    settings = studio_settings()
    assert settings.cluster.kubeconfig == kubeconfig
    assert settings.git.provider == "local" and settings.git.local_path == no_cluster / "gitops"


def test_a_named_cluster_wins_over_a_running_sandbox(
    no_cluster: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = _kubeconfig(no_cluster / "mine")
    sandbox = _kubeconfig(no_cluster / "sandbox-kubeconfig")
    (no_cluster / "no-sandbox.json").write_text(json.dumps({"kubeconfig": str(sandbox), "repo": "/r"}))
    monkeypatch.setenv("PARAMEDIC_CLUSTER__KUBECONFIG", str(mine))
    settings = studio_settings()
    assert settings.cluster.kubeconfig == mine and settings.git.local_path is None


def test_a_half_written_state_file_is_ignored(no_cluster: Path) -> None:
    (no_cluster / "no-sandbox.json").write_text('{"kubeconfig": ')
    assert studio_settings().cluster.kubeconfig is None
