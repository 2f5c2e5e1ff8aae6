"""liveness_probe: liveness probes failing and the kubelet restarting the container for it.

Signature: "Liveness probe failed" events AND the container restarted for it (restarts that are
not OOM kills, or the kubelet's Killing events) AND the probe differs from the one of a revision
whose pods pass it. Finding the container and the fix are shared with the readiness rule (`probes`).
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules.context import Finding, RuleContext
from agent.reasoners.rules.observations import EventObs
from agent.reasoners.rules.probes import Weighed, probe_rule

_LIVENESS = re.compile(r"Liveness probe (?:failed|errored)|failed liveness probe", re.IGNORECASE)


def liveness_probe(ctx: RuleContext) -> Finding | None:
    """Liveness probes failing and the kubelet restarting the container for it."""
    return probe_rule(ctx, RootCause.LIVENESS_PROBE, "livenessProbe", _LIVENESS, _weigh)


def _weigh(ctx: RuleContext, events: list[EventObs], container: str | None) -> Weighed:
    killing = [e for e in events if e.reason == "Killing" or "will be restarted" in e.message]
    restarted = [
        c
        for c in ctx.view.containers
        if c.restart_count > 0 and "OOMKilled" not in c.reasons and (not container or c.name == container)
    ]
    missing = () if killing or restarted else ("restarts of the container for the probe",)
    return Weighed(restarted, 0.7 + (0.1 if killing else 0.0) + (0.05 if restarted else 0.0), missing)
