"""Simulated time: a clock the simulation advances, faster than wall time when it runs on its own.

The clock only moves when told to (`advance`/`set`), so a test that steps the simulation gets
the same timestamps on every run; the background loop advances it by wall-time x `factor`.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import lru_cache

DEFAULT_START = datetime(2025, 6, 2, 9, 0, 0, tzinfo=UTC)
DEFAULT_FACTOR = 30.0


class SimClock:
    """A monotonic simulated clock (aware UTC) with a speed-up factor for real-time running."""

    def __init__(self, factor: float = DEFAULT_FACTOR, start: datetime = DEFAULT_START) -> None:
        if factor <= 0:
            raise ValueError(f"clock factor must be positive, got {factor}")
        if start.tzinfo is None:
            raise ValueError("clock start must be timezone-aware")
        self.factor = factor
        self._epoch = start.astimezone(UTC).timestamp()
        self._elapsed = 0.0
        self._lock = threading.Lock()

    def time(self) -> float:
        """Simulated seconds since the Unix epoch."""
        with self._lock:
            return self._epoch + self._elapsed

    def now(self) -> datetime:
        """The simulated moment as an aware UTC datetime (pass `clock.now` to `Store(clock=...)`)."""
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` of simulated time; returns the new `time()`."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go backwards ({seconds}s)")
        with self._lock:
            self._elapsed += seconds
            return self._epoch + self._elapsed

    def set(self, when: float) -> None:
        """Jump to simulated epoch second `when` (never backwards; earlier values are ignored)."""
        with self._lock:
            self._elapsed = max(self._elapsed, when - self._epoch)

    @property
    def elapsed(self) -> float:
        """Simulated seconds since the clock's start."""
        with self._lock:
            return self._elapsed


@lru_cache(maxsize=1024)
def rfc3339(ts: float) -> str:
    """Kubernetes' second-precision timestamp for a simulated epoch second.

    Cached: a simulation step stamps many objects and events at the same few instants."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s: str) -> float:
    """Epoch seconds of a Kubernetes timestamp."""
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def human_duration(seconds: float) -> str:
    """Go's time.Duration formatting as the kubelet prints back-offs (10s, 1m20s, 5m0s)."""
    td = timedelta(seconds=round(seconds))
    total = int(td.total_seconds())
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{secs}s"
