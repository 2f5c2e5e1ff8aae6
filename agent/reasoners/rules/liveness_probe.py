"""liveness_probe: liveness probes failing and the kubelet restarting the container for it.

Restarts that are OOM kills do not count; finding the container and the fix are shared with the
readiness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.observations import ContainerObs, EventObs
from agent.reasoners.rules.probes import probe_rule

_LIVENESS = re.compile(r"Liveness probe (?:failed|errored)|failed liveness probe", re.IGNORECASE)


def liveness_probe(ctx: RuleContext) -> Finding | None:
    """Liveness probes failing and the kubelet restarting the container for it."""
    return probe_rule(ctx, RootCause.LIVENESS_PROBE, "livenessProbe", _LIVENESS, _weigh)


def _weigh(
    ctx: RuleContext, events: list[EventObs], container: str | None
) -> tuple[list[ContainerObs], float]:
    killing = [e for e in events if e.reason == "Killing" or "will be restarted" in e.message]
    restarted = [c for c in ctx.view.containers if c.restart_count > 0 and "OOMKilled" not in c.reasons]
    return restarted, 0.7 + (0.1 if killing else 0.0) + (0.05 if restarted else 0.0)
