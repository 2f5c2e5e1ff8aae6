"""Incidents for tests: a workload failing for a reason, fingerprinted as the watcher fingerprints it."""

from __future__ import annotations

from typing import Any

from agent.domain import Incident, Trigger, WorkloadRef, fingerprint


def make_incident(
    target: WorkloadRef,
    reason: str,
    *,
    id: str = "inc-1",
    trigger: Trigger = Trigger.WATCHER,
    **fields: Any,
) -> Incident:
    """Incident `id` on `target` for `reason` (`fields`: summary, started_at, labels)."""
    return Incident(
        id=id,
        fingerprint=fingerprint(target, reason),
        target=target,
        trigger=trigger,
        reason=reason,
        **fields,
    )
