"""crash_loop: the fallback for a crash loop no other rule recognises (category `unknown`).

Low confidence by design: it says something is wrong, not what, and escalates to humans.
"""

from __future__ import annotations

import re

from agent.domain import RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite

_BACKOFF = re.compile(r"Back-off restarting failed container", re.IGNORECASE)


def crash_loop(ctx: RuleContext) -> Finding | None:
    """A crash loop with no known signature: low confidence, escalate."""
    view = ctx.view
    looping = [c for c in view.containers if c.waiting_reason == "CrashLoopBackOff" or c.restart_count >= 3]
    events = view.events_matching(_BACKOFF, ("BackOff",))
    if not looping and not events:
        return None
    return Finding(
        rule="crash_loop",
        category=RootCause.UNKNOWN,
        confidence=0.3,
        explanation="Containers crash and restart (CrashLoopBackOff) without a recognisable signature in "
        "the logs, statuses or events.",
        faulty_resource=ctx.workload,
        remediation=remedies.notify("crash loop without a known signature: escalate"),
        cited=cite(looping, events),
    )
