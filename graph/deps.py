"""The collaborators the healing graph's nodes need, injected as one small typed bundle.

Nodes are plain functions of state built from `GraphDeps` (`make_analyst_node(deps)`), so tests
hand them fakes and the CLI/server hands them the real cluster, Git, Prometheus, notifier and
reasoner (`build_deps(settings)`). Time is injected too: `clock` for timestamps and breakers,
`sleep` for verification's waits - a sandbox in stepped mode passes its own `advance`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from agent.cluster import kube_client
from agent.config import BreakerSettings, Settings
from agent.domain import Evidence, WorkloadRef
from agent.reasoners.base import Reasoner
from graph.approval import DEFAULT_APPROVAL_TTL
from graph.breaker import (
    REASONER_KEY,
    BreakerPolicy,
    BreakerStore,
    CircuitBreaker,
    InMemoryBreakerStore,
    SqliteBreakerStore,
)
from graph.decision import DecisionConfig
from graph.evidence import Sources, gather_evidence
from graph.nodes.cluster import Cluster, KubeCluster
from graph.nodes.metrics import metric_evidence
from graph.tracing import Emit, emit
from tools.gitops.base import GitOpsRepo
from tools.kubernetes import KubeClient
from tools.notify import Delivery, Notification, WebhookNotifier
from tools.prometheus import PrometheusClient
from tools.result import ToolResult, TraceSink

Gather = Callable[[WorkloadRef, TraceSink], Evidence]


def utc_now() -> datetime:
    """The wall clock, aware UTC."""
    return datetime.now(UTC)


class Notifier(Protocol):
    """Posts a notification (`tools.notify.WebhookNotifier` is one)."""

    def send(self, notification: Notification, *, sink: TraceSink = ...) -> ToolResult[Delivery]: ...


@dataclass(frozen=True)
class Breakers:
    """The per-workload remediation breaker and the global reasoner breaker."""

    target: CircuitBreaker
    reasoner: CircuitBreaker

    @classmethod
    def create(
        cls,
        settings: BreakerSettings | None = None,
        store: BreakerStore | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> Breakers:
        """Both breakers over one store (in memory by default) on `clock`."""
        settings = settings or BreakerSettings()
        store = store or InMemoryBreakerStore()

        def seconds() -> float:
            return clock().timestamp()

        return cls(
            CircuitBreaker(store, BreakerPolicy.for_targets(settings), seconds),
            CircuitBreaker(store, BreakerPolicy.for_reasoner(settings), seconds),
        )


@dataclass(frozen=True)
class VerifyConfig:
    """How verification judges a remediation, in seconds of the injected clock."""

    timeout_seconds: float = 600.0  # give up (unhealthy) after this long
    poll_seconds: float = 10.0
    settle_seconds: float = 30.0  # wait first: a merged change needs a sync before it is live
    stable_seconds: float = 60.0  # ready with unchanged restart counts for this long
    max_error_ratio: float = 0.05  # of HTTP 5xx, where Prometheus measures it

    def __post_init__(self) -> None:
        if self.poll_seconds <= 0 or self.timeout_seconds <= 0:
            raise ValueError("verification timeout and poll interval must be positive")
        if min(self.settle_seconds, self.stable_seconds) < 0:
            raise ValueError("verification settle and stable windows must not be negative")
        if not 0 <= self.max_error_ratio <= 1:
            raise ValueError("max_error_ratio must be between 0 and 1")


@dataclass(frozen=True)
class GraphDeps:
    """Everything the nodes use. Only `reasoner` and `gather` are needed to diagnose; acting needs
    `cluster` (and `repo` for GitOps pull requests), verification needs `cluster`."""

    reasoner: Reasoner
    gather: Gather
    breakers: Breakers
    cluster: Cluster | None = None
    repo: GitOpsRepo | None = None
    prometheus: PrometheusClient | None = None
    notifier: Notifier | None = None
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    auto_merge: bool = False  # merge Paramedic's own pull requests (policy must allow merging too)
    max_attempts: int = 3  # remediation attempts per run, on top of the target breaker
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    approval_ttl: timedelta = DEFAULT_APPROVAL_TTL
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    emit: Emit = emit
    actor: str = "paramedic"

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def reasoner_allowed(self) -> bool:
        """Whether the reasoner breaker lets a call through now."""
        return self.breakers.reasoner.allows(REASONER_KEY)


def make_gather(
    cluster_sources: Callable[[TraceSink], Sources], prometheus: PrometheusClient | None = None
) -> Gather:
    """A gatherer: cluster and Git evidence (graph/evidence) plus metrics, with their gaps."""

    def gather(target: WorkloadRef, sink: TraceSink) -> Evidence:
        evidence = gather_evidence(cluster_sources(sink), target)
        items, gaps = metric_evidence(prometheus, target, sink=sink)
        return evidence.model_copy(
            update={"items": [*evidence.items, *items], "gaps": [*evidence.gaps, *gaps]}
        )

    return gather


def build_deps(
    settings: Settings,
    *,
    reasoner: Reasoner | None = None,
    kube: KubeClient | None = None,
    repo: GitOpsRepo | None = None,
    notifier: Notifier | None = None,
    breaker_store: BreakerStore | None = None,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    verify: VerifyConfig | None = None,
) -> GraphDeps:
    """The real collaborators from settings; anything passed in is used instead of being built.

    Builds a `KubeClient` from `settings.cluster`, the GitOps repository from `settings.git` (none
    when neither a local path nor a GitHub repository is set), Prometheus from `prometheus_url`,
    the webhook notifier, the configured reasoner wired to the reasoner breaker, and breakers kept
    in SQLite under `data_dir` (shared by every run and process on this machine).
    """
    from agent.reasoners import build_reasoner
    from tools.gitops.factory import open_repo

    if kube is None:
        kube = kube_client(settings.cluster)
    git = settings.git
    if repo is None and (git.local_path is not None or git.github_repo):
        repo = open_repo(
            git.provider,
            local_path=git.local_path,
            github_repo=git.github_repo,
            github_base_url=git.github_base_url,
            token=git.token_value(),
            base_branch=git.base_branch,
            auto_merge=git.auto_merge,
        )
    store = breaker_store or SqliteBreakerStore(settings.data_dir / "breakers.db")
    breakers = Breakers.create(settings.breaker, store, clock)
    if reasoner is None:
        reasoner = build_reasoner(
            settings.llm,
            settings.thresholds.act,
            llm_allowed=lambda: breakers.reasoner.allows(REASONER_KEY),
            on_llm_error=lambda _: breakers.reasoner.record_event(REASONER_KEY),
        )
    prometheus = PrometheusClient(settings.prometheus_url)
    bound_kube, bound_repo = kube, repo
    return GraphDeps(
        reasoner=reasoner,
        gather=make_gather(lambda sink: Sources(bound_kube, bound_repo, sink), prometheus),
        breakers=breakers,
        cluster=KubeCluster(kube),
        repo=repo,
        prometheus=prometheus,
        notifier=notifier or WebhookNotifier(settings.notifications.webhook_url_value()),
        decision=DecisionConfig.from_settings(settings),
        auto_merge=git.auto_merge,
        max_attempts=settings.breaker.max_attempts,
        verify=verify or VerifyConfig(**settings.verification.model_dump()),
        clock=clock,
        sleep=sleep,
    )
