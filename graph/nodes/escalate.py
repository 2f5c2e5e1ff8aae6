"""The escalate node: hand the run to humans with the most specific reason, outcome ESCALATED.

It notifies once and audits it (graph/run_ending); it never changes the cluster or the repository.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from graph.action_records import entries, succeeded
from graph.context import HealingContext
from graph.run_ending import end_run, first_line
from graph.state import HealingState, RunOutcome, current_attempt, incident_of
from tools.notify import Severity

NODE = "escalate"


def _verification_failure(state: HealingState) -> str:
    """'verification failed ...' when the latest verification was unhealthy, else ""."""
    verifications = state.get("verifications") or []
    if not verifications or verifications[-1].get("healthy"):
        return ""
    latest = verifications[-1]
    reason = f"verification failed after attempt {latest['attempt']}: {latest['detail']}"
    rollbacks = entries(state, phase="rollback")
    if not rollbacks:
        return reason + "; no rollback was recorded"
    last = rollbacks[-1]
    if succeeded(last):
        return reason + f"; rolled back ({last['action']})"
    return reason + f"; rollback {last['action']} failed: {last['result']['detail']}"


def _remediation_failure(state: HealingState) -> str:
    """Why the current attempt's remediation did not go through, when it did not."""
    tried = entries(state, phase="remediation", attempt=current_attempt(state))
    failed = [e for e in tried if not succeeded(e)]
    if not tried or len(failed) < len(tried):
        return ""
    last = failed[-1]
    return f"remediation {last['action']} {last['result']['status']}: {last['result']['detail']}"


def _merge_wait_failure(state: HealingState) -> str:
    """Why the current attempt's wait on its pull request escalated (nobody merged it in time, or the
    wait could not be followed), else ""."""
    wait = state.get("merge_wait") or {}
    if wait.get("attempt") != current_attempt(state) or wait.get("status") not in ("timeout", "invalid"):
        return ""
    url = f" ({wait['pr_url']})" if wait.get("pr_url") else ""
    if wait.get("status") == "timeout":
        return f"pull request #{wait.get('pr_number')}{url} was not merged in time: {wait.get('detail', '')}"
    return f"waiting for the pull request failed: {wait.get('detail', '')}"


def escalation_reason(state: HealingState) -> str:
    """The most specific reason the run needs a human, most specific first."""
    waited = _merge_wait_failure(state)
    if waited:
        return waited
    verification = _verification_failure(state)
    if verification:
        return verification
    remediation = _remediation_failure(state)
    if remediation:
        return remediation
    approval = state.get("approval") or {}
    if approval.get("status") in ("expired", "invalid"):
        comment = approval.get("comment")
        return f"approval {approval['status']}" + (f": {comment}" if comment else "")
    decision = state.get("decision")
    rationale = first_line(decision.get("rationale") if decision else None)
    if rationale:
        return rationale
    if state.get("reasoner_error"):
        return f"no diagnosis: {state['reasoner_error']}"
    return "escalated without a recorded reason"


def escalate(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The escalate node: notify humans with the most specific reason, outcome ESCALATED."""
    target = incident_of(state).target
    return end_run(
        runtime.context,
        state,
        node=NODE,
        phase="escalation",
        outcome=RunOutcome.ESCALATED,
        reason=escalation_reason(state),
        title=f"{target}: escalated to a human",
        severity=Severity.CRITICAL,
    )
