"""The healing graph's runtime context: everything a run uses besides its state, in one typed bundle.

The graph is compiled once with `context_schema=HealingContext`; each run gets its context through
LangGraph's runtime (`graph.stream(..., context=...)`, see graph/runner.py) and every node and route
reads it as `runtime.context`. The context is not checkpointed, the state is: a run resumed in
another process gets that process's context (its own clients, clock and breakers).

Tests hand the nodes fakes; the CLI and the server hand them the real cluster, Git, Prometheus,
notifier and reasoner (`graph.context_factory.build_context`). Time is part of the context:
`clock` for timestamps and breakers, `sleep` for verification's waits (a stepped sandbox passes its
own `advance`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from agent.config import BreakerSettings, Mode, Settings, Thresholds
from agent.reasoners.base import Reasoner
from graph.breaker import BreakerPolicy, BreakerStore, CircuitBreaker, InMemoryBreakerStore
from graph.cluster_access import Cluster
from graph.evidence_gathering import Gather
from graph.memory.models import IncidentMemory
from graph.policies import PolicyConfig
from graph.tracing import Emit, emit
from tools.gitops.base import GitOpsRepo
from tools.notify import Delivery, Notification
from tools.prometheus import PrometheusClient
from tools.result import ToolResult, TraceSink

if TYPE_CHECKING:
    # Types only: the LLM reviewer's module loads the LLM clients (openai, langchain: ~1.5 s), which
    # a process on the rules reasoner never needs.
    from agent.reasoners.review import Reviewer

DEFAULT_APPROVAL_TTL = timedelta(hours=1)
DEFAULT_MERGE_TIMEOUT = timedelta(hours=24)


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
class DecisionConfig:
    """What the decision node is configured with: the mode, the thresholds and the scoped policy."""

    mode: Mode = Mode.REPORT
    thresholds: Thresholds = field(default_factory=Thresholds)
    policy: PolicyConfig = field(default_factory=PolicyConfig)

    @classmethod
    def from_settings(cls, settings: Settings) -> DecisionConfig:
        """Mode, thresholds and the scoped policy from settings."""
        return cls(settings.mode, settings.thresholds, PolicyConfig.from_settings(settings))


@dataclass(frozen=True)
class HealingContext:
    """Everything the nodes use. Only `reasoner` and `gather` are needed to diagnose; acting needs
    `cluster` (and `repo` for GitOps pull requests), verification needs `cluster`."""

    reasoner: Reasoner
    gather: Gather
    breakers: Breakers
    reviewer: Reviewer | None = None  # the auditor's LLM second opinion (LLM providers only)
    cluster: Cluster | None = None
    repo: GitOpsRepo | None = None
    prometheus: PrometheusClient | None = None
    notifier: Notifier | None = None
    memory: IncidentMemory | None = None  # past incidents and fix outcomes (the run store's, when wired)
    decision: DecisionConfig = field(default_factory=DecisionConfig)
    auto_merge: bool = False  # merge Paramedic's own pull requests (policy must allow merging too)
    max_attempts: int = 3  # remediation attempts per run, on top of the target breaker
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    approval_ttl: timedelta = DEFAULT_APPROVAL_TTL
    merge_timeout: timedelta = DEFAULT_MERGE_TIMEOUT  # a pull request a human must merge, then escalate
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    emit: Emit = emit
    actor: str = "paramedic"
    # Called with the run id right before a node changes the cluster or Git; raises to stop a run
    # this process no longer owns (another replica took it over), so a change is made once.
    guard: Callable[[str], None] = field(default=lambda _run_id: None)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.approval_ttl <= timedelta(0):
            raise ValueError("approval ttl must be positive")
        if self.merge_timeout <= timedelta(0):
            raise ValueError("merge timeout must be positive")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # Clients, callables and breakers are in-process objects: LangGraph tooling that asks for the
        # context's schema (Studio, the API server) gets an opaque object, and a dict is refused.
        return core_schema.is_instance_schema(cls)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "object",
            "title": cls.__name__,
            "description": "The run's in-process collaborators (graph/context.py); built by the host, "
            "never sent over the API.",
        }

    @property
    def merge(self) -> bool:
        """Whether Paramedic merges its own pull requests: auto-merge on and policy allowing it."""
        return self.auto_merge and self.decision.policy.allow_merge
