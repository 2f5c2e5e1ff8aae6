"""The conditional edges after remediation and verification (see graph/builder.py for the shape).

Routes are pure functions of state (plus, for verification, the attempt budget and the target
breaker); they never write anything, so the nodes before them own every decision's record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from graph.breaker import target_key
from graph.deps import GraphDeps
from graph.nodes.records import entries, succeeded
from graph.state import HealingState, Outcome, current_attempt, subject_of

AfterRemediation = Literal["verification", "report", "escalate"]
AfterVerification = Literal["healed", "analyst", "rollback"]


def route_after_remediation(state: HealingState) -> AfterRemediation:
    """Where a remediation attempt leads, from the current attempt's remediation entries.

    A change that went through and is (or will be, after a GitOps sync) live is verified; a pull
    request that went through but waits for a human to merge is reported; anything else (failed,
    denied, or nothing written at all) is escalated.
    """
    done = [e for e in entries(state, phase="remediation", attempt=current_attempt(state)) if succeeded(e)]
    if any(e.get("applied") for e in done):
        return "verification"
    if any(e.get("pending_merge") for e in done):
        return "report"
    return "escalate"


def make_route_after_verification(deps: GraphDeps) -> Callable[[HealingState], AfterVerification]:
    """The route after verification, bound to the attempt budget and the target breaker.

    Contract with the verification node: on success it writes `outcome=healed`; on failure it
    appends an unhealthy `VerificationRecord` for the attempt it checked and bumps `attempt` only
    when it wants a retry. So:

    - outcome healed -> "healed" (the run ends);
    - latest verification unhealthy, `attempt` bumped past that verification's attempt, still
      within `deps.max_attempts`, and the target breaker allows another attempt -> "analyst";
    - anything else -> "rollback" (which then escalates). That includes a state that breaks the
      contract (no verification record, or a healthy one without outcome): failing closed means
      undoing the change and putting a human in front of it.
    """

    def route_after_verification(state: HealingState) -> AfterVerification:
        if state.get("outcome") == Outcome.HEALED.value:
            return "healed"
        verifications = state.get("verifications") or []
        latest = verifications[-1] if verifications else None
        if latest is None or latest.get("healthy"):
            return "rollback"
        attempt = current_attempt(state)
        retry_wanted = attempt > int(latest["attempt"])
        if (
            retry_wanted
            and attempt <= deps.max_attempts
            and deps.breakers.target.allows(target_key(subject_of(state)))
        ):
            return "analyst"
        return "rollback"

    return route_after_verification
