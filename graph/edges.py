"""Every conditional edge of the healing graph (graph/builder.py draws where each one leads).

Routes are pure functions of state (plus, after verification, the attempt budget and the target
breaker from the run's context); they never write anything, so the nodes before them own every
decision's record. The rule of this package: nodes live in graph/nodes, routes live here.
"""

from __future__ import annotations

from typing import Literal

from langgraph.runtime import Runtime

from graph.action_records import entries, succeeded
from graph.breaker import target_key
from graph.context import HealingContext
from graph.state import HealingState, Route, RunOutcome, current_attempt, subject_of

AfterApproval = Literal["act", "report", "escalate"]
AfterRemediation = Literal["verification", "wait", "escalate"]
AfterMergeWait = Literal["verification", "report", "escalate"]
AfterVerification = Literal["healed", "analyst", "rollback"]


def route_after_decision(state: HealingState) -> str:
    """The decided route's value (`graph.state.Route`), escalate when there is none."""
    decision = state.get("decision")
    return decision["route"] if decision else Route.ESCALATE.value


def route_after_approval(state: HealingState) -> AfterApproval:
    """Approved -> "act", rejected -> "report", anything else (expired, invalid, absent) -> "escalate"."""
    status = (state.get("approval") or {}).get("status")
    if status == "approved":
        return "act"
    if status == "rejected":
        return "report"
    return "escalate"


def route_after_remediation(state: HealingState) -> AfterRemediation:
    """Where a remediation attempt leads, from the current attempt's remediation entries.

    A change that went through and is (or will be, after a GitOps sync) live is verified; a pull
    request that went through but waits for a human to merge makes the run wait for it; anything
    else (failed, denied, or nothing written at all) is escalated.
    """
    done = [e for e in entries(state, phase="remediation", attempt=current_attempt(state)) if succeeded(e)]
    if any(e.get("applied") for e in done):
        return "verification"
    if any(e.get("pending_merge") for e in done):
        return "wait"
    return "escalate"


def route_after_merge_wait(state: HealingState) -> AfterMergeWait:
    """Where the wait on a pull request leads: merged -> "verification" (the change is live once
    synced); closed or recovered on its own -> "report" (the run ends rejected or recovered);
    timeout, invalid, or a wait of another attempt (a broken contract) -> "escalate"."""
    wait = state.get("merge_wait") or {}
    if wait.get("attempt") != current_attempt(state):
        return "escalate"
    status = wait.get("status")
    if status == "merged":
        return "verification"
    if status in ("closed", "recovered"):
        return "report"
    return "escalate"


def route_after_verification(state: HealingState, runtime: Runtime[HealingContext]) -> AfterVerification:
    """The route after verification, within the context's attempt budget and target breaker.

    Contract with the verification node: on success it writes `outcome=healed`; on failure it
    appends an unhealthy `VerificationRecord` for the attempt it checked and bumps `attempt` only
    when it wants a retry. So:

    - outcome healed -> "healed" (the run ends);
    - latest verification unhealthy, `attempt` bumped past that verification's attempt, still
      within `max_attempts`, and the target breaker allows another attempt -> "analyst";
    - anything else -> "rollback" (which then escalates). That includes a state that breaks the
      contract (no verification record, or a healthy one without outcome): failing closed means
      undoing the change and putting a human in front of it.
    """
    if state.get("outcome") == RunOutcome.HEALED.value:
        return "healed"
    verifications = state.get("verifications") or []
    latest = verifications[-1] if verifications else None
    if latest is None or latest.get("healthy"):
        return "rollback"
    ctx = runtime.context
    attempt = current_attempt(state)
    retry_wanted = attempt > int(latest["attempt"])
    if (
        retry_wanted
        and attempt <= ctx.max_attempts
        and ctx.breakers.target.allows(target_key(subject_of(state)))
    ):
        return "analyst"
    return "rollback"
