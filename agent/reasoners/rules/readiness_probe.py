"""readiness_probe: readiness probes failing on running containers that do not restart.

Crashes explain unreadiness better than the probe does, so they lower the confidence; the fix is
shared with the liveness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.probes import PROBE_EVENT_REASONS, probe_container, probe_finding

_READINESS = re.compile(r"Readiness probe (?:failed|errored)", re.IGNORECASE)


def readiness_probe(ctx: RuleContext) -> Finding | None:
    """Readiness probes failing on running containers that do not restart."""
    view = ctx.view
    events = view.events_matching(_READINESS, PROBE_EVENT_REASONS)
    if not events:
        return None
    container = probe_container(ctx, events)
    not_ready = [c for c in view.containers if c.ready is False and (not container or c.name == container)]
    confidence = 0.8 if not_ready else 0.65
    if any(c.restart_count > 2 or "OOMKilled" in c.reasons for c in view.containers):
        confidence -= 0.2  # crashes explain unreadiness better than the probe does
    return probe_finding(
        ctx, RootCause.READINESS_PROBE, "readinessProbe", events, container, not_ready, confidence
    )
