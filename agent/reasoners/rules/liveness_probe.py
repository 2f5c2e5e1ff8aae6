"""liveness_probe: liveness probes failing and the kubelet restarting the container for it.

Restarts that are OOM kills do not count; the fix is shared with the readiness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.probes import PROBE_EVENT_REASONS, probe_container, probe_finding

_LIVENESS = re.compile(r"Liveness probe (?:failed|errored)|failed liveness probe", re.IGNORECASE)


def liveness_probe(ctx: RuleContext) -> Finding | None:
    """Liveness probes failing and the kubelet restarting the container for it."""
    view = ctx.view
    events = view.events_matching(_LIVENESS, PROBE_EVENT_REASONS)
    if not events:
        return None
    container = probe_container(ctx, events)
    killing = [e for e in events if e.reason == "Killing" or "will be restarted" in e.message]
    restarted = [c for c in view.containers if c.restart_count > 0 and "OOMKilled" not in c.reasons]
    confidence = 0.7 + (0.1 if killing else 0.0) + (0.05 if restarted else 0.0)
    return probe_finding(
        ctx, RootCause.LIVENESS_PROBE, "livenessProbe", events, container, restarted, confidence
    )
