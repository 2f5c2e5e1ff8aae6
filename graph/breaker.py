"""Circuit breakers: a pure state machine keyed by target, and where its state is kept.

The machine counts *events* in a sliding window: remediation attempts for a workload, or
failures for the reasoner (key `REASONER_KEY`). When the window holds `limit` events the
breaker opens; after `cooldown_seconds` it is half-open and lets exactly one trial through;
the trial's event re-opens it, and a success recorded for that trial closes it.

Time is always passed in (epoch seconds) so the machine is deterministic; `CircuitBreaker`
binds a store, a policy and a clock for callers that just want to ask and record. The server keeps
the states in the run store (`server.runstore.breaker_table`, SQLite or PostgreSQL), so replicas
sharing a store share their breakers; `InMemoryBreakerStore` serves one process.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from agent.config import BreakerSettings
from agent.domain import WorkloadRef

REASONER_KEY = "__reasoner__"

Clock = Callable[[], float]


class BreakerStatus(StrEnum):
    """Where a breaker stands at a given moment."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    """How a breaker trips and recovers."""

    limit: int
    window_seconds: float
    cooldown_seconds: float
    # Targets keep counting attempts after a success (flap protection); the reasoner breaker
    # counts consecutive trouble, so a good answer wipes the slate.
    reset_on_success: bool = False

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ValueError(f"breaker limit must be >= 1, got {self.limit}")
        if self.window_seconds <= 0:
            raise ValueError(f"breaker window must be > 0 seconds, got {self.window_seconds}")
        if self.cooldown_seconds < 0:
            raise ValueError(f"breaker cooldown must be >= 0 seconds, got {self.cooldown_seconds}")

    @classmethod
    def for_targets(cls, settings: BreakerSettings) -> BreakerPolicy:
        """The per-workload remediation breaker from settings."""
        return cls(settings.max_attempts, settings.window_seconds, settings.cooldown_seconds)

    @classmethod
    def for_reasoner(cls, settings: BreakerSettings) -> BreakerPolicy:
        """The global reasoner/LLM failure breaker from settings."""
        return cls(
            settings.llm_failure_limit,
            settings.window_seconds,
            settings.llm_cooldown_seconds,
            reset_on_success=True,
        )


@dataclass(frozen=True)
class BreakerState:
    """One breaker's memory: recent event times, when it opened, whether a trial is out."""

    events: tuple[float, ...] = ()
    opened_at: float | None = None
    probing: bool = False  # the half-open trial event happened; its outcome is pending

    def to_json(self) -> str:
        """A compact JSON form for persistence."""
        return json.dumps({"events": list(self.events), "opened_at": self.opened_at, "probing": self.probing})

    @classmethod
    def from_json(cls, text: str) -> BreakerState:
        """Parse `to_json` output; raises ValueError on anything else."""
        try:
            data = json.loads(text)
            events = tuple(float(t) for t in data["events"])
            opened = data["opened_at"]
            return cls(events, None if opened is None else float(opened), bool(data["probing"]))
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"corrupt breaker state: {text[:200]!r}") from exc


def status(state: BreakerState, policy: BreakerPolicy, now: float) -> BreakerStatus:
    """The breaker's status at `now`."""
    if state.opened_at is None:
        return BreakerStatus.CLOSED
    if now < state.opened_at + policy.cooldown_seconds:
        return BreakerStatus.OPEN
    return BreakerStatus.HALF_OPEN


def allows(state: BreakerState, policy: BreakerPolicy, now: float) -> bool:
    """True when an attempt (or a reasoner call) may go ahead at `now`."""
    return status(state, policy, now) is not BreakerStatus.OPEN


def in_window(state: BreakerState, policy: BreakerPolicy, now: float) -> int:
    """How many events fall inside the sliding window ending at `now`."""
    return sum(1 for t in state.events if t > now - policy.window_seconds)


def record_event(state: BreakerState, policy: BreakerPolicy, now: float) -> BreakerState:
    """An attempt (target) or a failure (reasoner) happened at `now`."""
    events = (*(t for t in state.events if t > now - policy.window_seconds), now)
    current = status(state, policy, now)
    if current is BreakerStatus.HALF_OPEN:
        # The trial: shut again until its outcome is known or another cooldown passes.
        return BreakerState(events, opened_at=now, probing=True)
    if current is BreakerStatus.OPEN:
        # Something slipped past an open breaker (a racing process): restart the cooldown.
        return BreakerState(events, opened_at=now, probing=state.probing)
    if len(events) >= policy.limit:
        return BreakerState(events, opened_at=now, probing=False)
    return BreakerState(events)


def record_success(state: BreakerState, policy: BreakerPolicy, now: float) -> BreakerState:
    """The attempt worked (verification passed) or the reasoner answered."""
    current = status(state, policy, now)
    if state.probing or current is BreakerStatus.HALF_OPEN:
        return BreakerState()
    if current is BreakerStatus.OPEN:
        return state  # a success does not cut a cooldown short, except for the trial
    return BreakerState() if policy.reset_on_success else state


class BreakerStore(Protocol):
    """Where breaker states live. `update` must be atomic per key (read, transform, write)."""

    def get(self, key: str) -> BreakerState: ...

    def update(self, key: str, change: Callable[[BreakerState], BreakerState]) -> BreakerState: ...


@dataclass
class InMemoryBreakerStore:
    """A store for one process (tests, the demo)."""

    _states: dict[str, BreakerState] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: str) -> BreakerState:
        """The state for `key` (closed and empty when unseen)."""
        with self._lock:
            return self._states.get(key, BreakerState())

    def update(self, key: str, change: Callable[[BreakerState], BreakerState]) -> BreakerState:
        """Apply `change` to the state of `key` atomically; return the new state."""
        with self._lock:
            new = change(self._states.get(key, BreakerState()))
            self._states[key] = new
            return new


@dataclass(frozen=True)
class BreakerView:
    """A breaker's status as the decision node reports it."""

    key: str
    status: BreakerStatus
    events_in_window: int
    limit: int
    reopens_at: float | None  # when an open breaker turns half-open

    def describe(self) -> str:
        """One line for a rationale."""
        text = f"breaker {self.key}: {self.status.value} ({self.events_in_window}/{self.limit} in window)"
        if self.status is BreakerStatus.OPEN and self.reopens_at is not None:
            text += f", cooldown until {self.reopens_at:.0f}"
        return text


@dataclass(frozen=True)
class CircuitBreaker:
    """A store, a policy and a clock bound together: ask whether to go ahead, record what happened."""

    store: BreakerStore
    policy: BreakerPolicy
    clock: Clock = time.time

    def view(self, key: str) -> BreakerView:
        """The breaker's status for `key` now."""
        now = self.clock()
        state = self.store.get(key)
        current = status(state, self.policy, now)
        reopens = state.opened_at + self.policy.cooldown_seconds if state.opened_at is not None else None
        return BreakerView(key, current, in_window(state, self.policy, now), self.policy.limit, reopens)

    def allows(self, key: str) -> bool:
        """True when an attempt on `key` may go ahead now."""
        return allows(self.store.get(key), self.policy, self.clock())

    def record_event(self, key: str) -> BreakerView:
        """Count an attempt (target) or a failure (reasoner) for `key` now."""
        now = self.clock()
        self.store.update(key, lambda s: record_event(s, self.policy, now))
        return self.view(key)

    def record_success(self, key: str) -> BreakerView:
        """Record that the last attempt on `key` worked (or the reasoner answered)."""
        now = self.clock()
        self.store.update(key, lambda s: record_success(s, self.policy, now))
        return self.view(key)


def target_key(target: WorkloadRef) -> str:
    """The breaker key of a workload: `namespace/kind/name`."""
    return str(target)
