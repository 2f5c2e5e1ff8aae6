"""The healing graph over a stepped sandbox: simulated time, local Git with auto-merge, rules reasoner.

`healing_sandbox(workdir)` starts a sandbox in stepped mode (`background=False`), so the graph's
`sleep` is the sandbox's `advance` and its `clock` is the sandbox's simulated clock: verification
waits in simulated seconds and a run takes seconds of wall time. `Harness.context(...)` builds the
real collaborators (`build_context`) with anything overridden; `Harness.app(...)` compiles the graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from agent.config import Mode, Settings
from agent.domain import Incident, Trigger, WorkloadRef
from agent.trace import TraceEvent
from evals.runner import settings_for
from graph.action_records import entries
from graph.breaker import InMemoryBreakerStore
from graph.builder import compile_graph
from graph.context import HealingContext
from graph.context_factory import build_context
from graph.runner import HealingApp
from graph.state import HealingState
from sandbox.cluster import Sandbox
from sandbox.faults.injector import InjectedFault
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NODES
from tests.incidents import make_incident
from tools.gitops.local import LocalGitRepo
from tools.gitops.local_pulls import PullStore
from tools.gitops.records import PullRequest
from tools.kubernetes import KubeClient

NAMESPACE = "shop"


@dataclass
class Harness:
    """One stepped sandbox and what a graph over it needs."""

    sb: Sandbox
    kube: KubeClient
    data_dir: Path
    events: list[TraceEvent] = field(default_factory=list)

    def clock(self) -> datetime:
        """The sandbox's simulated time, aware UTC."""
        return datetime.fromtimestamp(self.sb.clock.time(), UTC)

    def settings(self, mode: Mode = Mode.AUTONOMOUS) -> Settings:
        """Autonomous (or `mode`) settings over the sandbox's cluster and its local Git with auto-merge."""
        base = settings_for(
            "rules",
            None,
            kubeconfig=self.sb.kubeconfig_path,
            repo_path=self.sb.repo_path,
            data_dir=self.data_dir,
        )
        return base.model_copy(update={"mode": mode})

    def repo(self) -> LocalGitRepo:
        """The sandbox's GitOps repository."""
        return LocalGitRepo(self.sb.repo_path)

    def context(self, mode: Mode = Mode.AUTONOMOUS, **overrides: Any) -> HealingContext:
        """`build_context` over the sandbox; keyword arguments go to it (reasoner, repo, verify...)."""
        overrides.setdefault("breaker_store", InMemoryBreakerStore())
        return build_context(
            self.settings(mode), kube=self.kube, clock=self.clock, sleep=self.sb.advance, **overrides
        )

    def app(self, context: HealingContext, checkpointer: BaseCheckpointSaver | None = None) -> HealingApp:
        """The compiled healing graph with `context` for its runs."""
        return HealingApp(
            compile_graph(checkpointer if checkpointer is not None else InMemorySaver()), context
        )

    def inject(self, fault_type: str, name: str, settle: float = 120.0) -> InjectedFault:
        """Inject a catalogue fault into shop/deploy/`name` and let the symptoms show."""
        fault = self.sb.inject(fault_type, f"{NAMESPACE}/deploy/{name}")
        self.sb.advance(settle)
        return fault

    def incident(self, name: str, reason: str = "unhealthy") -> Incident:
        """A manual incident on shop/`name`, started now (simulated)."""
        target = WorkloadRef(namespace=NAMESPACE, name=name)
        return make_incident(
            target, reason, id=f"inc-{name}", trigger=Trigger.MANUAL, started_at=self.clock()
        )

    def pulls(self) -> list[PullRequest]:
        """Every pull request in the local repository's pull store."""
        return PullStore(self.sb.repo_path / ".git" / "paramedic").all()

    def fixed(self, fault: InjectedFault) -> bool:
        """Whether the live objects satisfy the fault's ground-truth fix (any one of its alternatives)."""
        objects: dict[str, Any] = {}
        for alternative in fault.truth.fixes:
            for check in alternative:
                kind, _, rest = check.resource.partition(" ")
                resource = {"Deployment": DEPLOYMENTS, "ConfigMap": CONFIGMAPS, "Node": NODES}[kind]
                namespace, _, name = rest.rpartition("/")
                obj = self.sb.store.find(resource, namespace, name)
                if obj is not None:
                    objects[check.resource] = obj
        return fault.truth.is_fixed(objects)

    def head_text(self, path: str, ref: str = "main") -> str | None:
        """A file's text on `ref` of the GitOps repository (None when absent)."""
        result = self.repo().read_file(path, ref)
        return result.data if result.ok else None


@contextmanager
def healing_sandbox(workdir: Path, seed: int = 1) -> Iterator[Harness]:
    """A healthy stepped sandbox under `workdir` with a harness over it; always shut down."""
    with Sandbox(workdir=workdir / "sandbox", seed=seed, background=False) as sb:
        sb.wait_healthy(timeout=30)
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        try:
            yield Harness(sb, kube, workdir / "data")
        finally:
            kube.close()


def remediations(state: HealingState) -> list[dict[str, Any]]:
    """The run's remediation entries, oldest first."""
    return [dict(e) for e in entries(state, phase="remediation")]


def rollbacks(state: HealingState) -> list[dict[str, Any]]:
    """The run's rollback entries, in the order they were written."""
    return [dict(e) for e in entries(state, phase="rollback")]
