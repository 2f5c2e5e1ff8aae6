"""readiness_probe: readiness probes failing on running containers that do not restart.

Signature: "Readiness probe failed" events AND the probed container not ready now AND it is not
crash-looping (crashes explain unreadiness better than the probe does) AND the probe differs from
the one of a revision whose pods pass it. Probe failures on a workload whose containers are all
ready now are the normal noise of pods starting (partial). Finding the container and the fix are
shared with the liveness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.observations import EventObs
from agent.reasoners.rules.probes import Weighed, probe_rule

_READINESS = re.compile(r"Readiness probe (?:failed|errored)", re.IGNORECASE)


def readiness_probe(ctx: RuleContext) -> Finding | None:
    """Readiness probes failing on running containers that do not restart."""
    return probe_rule(ctx, RootCause.READINESS_PROBE, "readinessProbe", _READINESS, _weigh)


def _weigh(ctx: RuleContext, events: list[EventObs], container: str | None) -> Weighed:
    containers = ctx.view.containers
    not_ready = [c for c in containers if c.ready is False and (not container or c.name == container)]
    missing = [] if not_ready else ["a container not ready now"]
    if any(c.restart_count > 2 or "OOMKilled" in c.reasons or c.waiting_reason for c in not_ready):
        missing.append("a running container (it crashes or waits, which explains unreadiness better)")
    return Weighed(not_ready, 0.8, tuple(missing))
