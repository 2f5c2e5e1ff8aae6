"""Pods evicted from one node are one incident: the node's pressure, not each workload's fault.

The kubelet evicts pod after pod from a node under memory, disk or PID pressure, whatever workloads
they belong to; an incident per workload would send several runs after one cause, each finding
nothing wrong with its own workload. The first workload evicted from a node within the window is
the incident's subject (the kubelet evicts first the pod furthest above its requests: the likeliest
to show the pressure; a listing is ordered by eviction time for that), and later evictions from that
node fold into its incident for as long as they keep coming within the window.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import EVICTED, Finding


class EvictionFold:
    """Per node, the workload whose incident holds the evictions seen within `window_seconds`."""

    def __init__(self, window_seconds: float) -> None:
        self._window = timedelta(seconds=window_seconds)
        self._first: dict[str, tuple[WorkloadRef, datetime]] = {}
        self._lock = threading.Lock()

    def subject(
        self, pod: Mapping[str, Any], target: WorkloadRef, findings: Iterable[Finding], now: datetime
    ) -> WorkloadRef:
        """The workload an evicted pod's finding goes to: `target`, or the node's first evicted one."""
        spec = pod.get("spec")
        node = spec.get("nodeName") if isinstance(spec, Mapping) else None
        if not isinstance(node, str) or not node or not any(f.reason == EVICTED for f in findings):
            return target
        with self._lock:
            first = self._first.get(node)
            subject = target if first is None or now - first[1] > self._window else first[0]
            self._first[node] = (subject, now)  # the window slides while the node keeps evicting
            return subject


def eviction_order(pod: Mapping[str, Any]) -> tuple[bool, str]:
    """Sort key for a listing: pods not evicted first, then evicted ones in the order they were evicted
    (their DisruptionTarget condition's time, else their start), so the first evicted is the subject."""
    status = pod.get("status")
    if not isinstance(status, Mapping) or status.get("reason") != "Evicted":
        return False, ""
    for cond in status.get("conditions") or []:
        if isinstance(cond, Mapping) and cond.get("type") == "DisruptionTarget":
            return True, str(cond.get("lastTransitionTime") or "")
    return True, str(status.get("startTime") or "")
