"""Scheduled re-evaluation of single objects: grace periods, cooldowns and retries that end in silence.

A pod that stays Running-but-not-Ready produces no further watch event when its grace period
runs out, so the watcher asks to look at that one object again at that moment. This is not
polling: only objects that asked are looked at, once, when they asked.

Deadlines are in the injected clock's time (which may run faster than wall time, as in the
sandbox), so the thread never sleeps longer than `max_sleep` real seconds between looks.
"""

from __future__ import annotations

import heapq
import logging
import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


class Rechecks(Generic[K]):
    """A timer heap keyed by object; `on_due(key)` runs on the rechecks thread when a key is due."""

    def __init__(
        self, clock: Callable[[], datetime], on_due: Callable[[K], None], max_sleep: float = 1.0
    ) -> None:
        if max_sleep <= 0:
            raise ValueError("max_sleep must be > 0")
        self._clock = clock
        self._on_due = on_due
        self._max_sleep = max_sleep
        self._due: dict[K, datetime] = {}
        self._heap: list[tuple[datetime, int, K]] = []
        self._seq = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def schedule(self, key: K, at: datetime) -> None:
        """Look at `key` again at `at` (an earlier request for the same key wins)."""
        with self._cond:
            current = self._due.get(key)
            if current is not None and current <= at:
                return
            self._due[key] = at
            self._seq += 1
            heapq.heappush(self._heap, (at, self._seq, key))
            self._cond.notify()

    def cancel(self, key: K) -> None:
        """Forget `key` (a deleted object); its heap entry is skipped when it surfaces."""
        with self._cond:
            self._due.pop(key, None)

    def pop_due(self, now: datetime) -> list[K]:
        """The keys due at `now`, removed from the schedule (what the thread runs; tests call it too)."""
        due: list[K] = []
        with self._cond:
            while self._heap and self._heap[0][0] <= now:
                at, _, key = heapq.heappop(self._heap)
                if self._due.get(key) == at:
                    del self._due[key]
                    due.append(key)
        return due

    def __len__(self) -> int:
        with self._cond:
            return len(self._due)

    def overdue(self, now: datetime) -> int:
        """How many keys are due at `now` and not yet taken by the thread (work running late)."""
        with self._cond:
            return sum(1 for at in self._due.values() if at <= now)

    def start(self) -> None:
        """Run due keys on a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("rechecks already started")
        self._thread = threading.Thread(target=self._run, name="watch-rechecks", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """End the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                wait = self._max_sleep
                if self._heap:
                    remaining = (self._heap[0][0] - self._clock()).total_seconds()
                    wait = max(0.0, min(wait, remaining))
                if wait > 0:
                    self._cond.wait(wait)
                if self._stopping:
                    return
            for key in self.pop_due(self._clock()):
                try:
                    self._on_due(key)
                except Exception:
                    log.exception("recheck of %s failed", key)
