"""Restarts within a sliding window, per pod, from the restart counts successive watch events show.

A pod only carries its lifetime `restartCount`, so "N restarts in the last W seconds" needs memory:
each increase is recorded at the moment it was observed. On first sight of a pod, its restarts are
known to lie within the window only if the pod started within the window (restarts cannot precede
the start); otherwise they become the baseline and only later increases count.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from server.watcher.detect import parse_time, restart_total


@dataclass
class _PodRestarts:
    last_total: int
    increases: deque[tuple[datetime, int]] = field(default_factory=deque)


class RestartWindow:
    """Counts restarts per pod uid within `window_seconds`; remembers at most `max_pods` pods (LRU)."""

    def __init__(self, window_seconds: float, max_pods: int = 20_000) -> None:
        if window_seconds <= 0 or max_pods < 1:
            raise ValueError("window_seconds must be > 0 and max_pods >= 1")
        self._window = timedelta(seconds=window_seconds)
        self._max = max_pods
        self._pods: OrderedDict[str, _PodRestarts] = OrderedDict()
        self._lock = threading.Lock()

    def observe(self, pod: Mapping[str, Any], now: datetime) -> int:
        """Record the pod's current restart count; answer how many restarts fall within the window."""
        metadata = meta if isinstance(meta := pod.get("metadata"), Mapping) else {}
        uid = metadata.get("uid") if isinstance(metadata.get("uid"), str) else ""
        if not uid:
            return 0
        total = restart_total(pod)
        cutoff = now - self._window
        with self._lock:
            entry = self._pods.get(uid)
            if entry is None:
                entry = _PodRestarts(last_total=total)
                started = parse_time((pod.get("status") or {}).get("startTime")) or parse_time(
                    metadata.get("creationTimestamp")
                )
                if total > 0 and started is not None and started > cutoff:
                    entry.increases.append((started, total))
                self._pods[uid] = entry
                while len(self._pods) > self._max:
                    self._pods.popitem(last=False)
            else:
                self._pods.move_to_end(uid)
                if total > entry.last_total:
                    entry.increases.append((now, total - entry.last_total))
                entry.last_total = total  # a lower count means a recreated container: new baseline
            while entry.increases and entry.increases[0][0] <= cutoff:
                entry.increases.popleft()
            return sum(n for _, n in entry.increases)

    def forget(self, uid: str) -> None:
        """Drop a deleted pod."""
        with self._lock:
            self._pods.pop(uid, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pods)
