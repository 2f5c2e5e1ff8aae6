"""The watcher's tuning and its counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.watcher.fold import FoldStats
from server.watcher.rollout_errors import ErrorRatePolicy
from server.watcher.streams import StreamState


@dataclass(frozen=True)
class WatcherOptions:
    """Tuning; the defaults suit a real cluster."""

    queue_capacity: int = 64
    cooldown_seconds: float = 300.0
    retry_seconds: float = 5.0  # when the queue was full, look again this much later
    watch_timeout_seconds: int = 300  # server-side timeout of one watch request
    connect_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    recheck_max_sleep: float = 1.0
    argo: bool = True
    flux: bool = True
    paramedic_watches: bool = True
    # Errors after a rollout, read from the new pods' logs (None: off, e.g. where Prometheus alerts).
    rollout_errors: ErrorRatePolicy | None = field(default_factory=ErrorRatePolicy)


@dataclass
class WatcherStats:
    """Counters and per-stream state, ready for metrics and a status page."""

    fold: FoldStats
    streams: list[StreamState] = field(default_factory=list)
    callback_errors: int = 0
