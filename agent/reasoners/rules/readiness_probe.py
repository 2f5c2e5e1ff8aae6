"""readiness_probe: readiness probes failing on running containers that do not restart.

Crashes explain unreadiness better than the probe does, so they lower the confidence; finding the
container and the fix are shared with the liveness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.observations import ContainerObs, EventObs
from agent.reasoners.rules.probes import probe_rule

_READINESS = re.compile(r"Readiness probe (?:failed|errored)", re.IGNORECASE)


def readiness_probe(ctx: RuleContext) -> Finding | None:
    """Readiness probes failing on running containers that do not restart."""
    return probe_rule(ctx, RootCause.READINESS_PROBE, "readinessProbe", _READINESS, _weigh)


def _weigh(
    ctx: RuleContext, events: list[EventObs], container: str | None
) -> tuple[list[ContainerObs], float]:
    containers = ctx.view.containers
    not_ready = [c for c in containers if c.ready is False and (not container or c.name == container)]
    confidence = 0.8 if not_ready else 0.65
    if any(c.restart_count > 2 or "OOMKilled" in c.reasons for c in containers):
        confidence -= 0.2  # crashes explain unreadiness better than the probe does
    return not_ready, confidence
