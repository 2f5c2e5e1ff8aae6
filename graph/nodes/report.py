"""The report node: post the diagnosis without changing anything, outcome REPORTED, REJECTED or RECOVERED.

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

NODE = "report"


def _merge_wait_outcome(state: HealingState) -> tuple[RunOutcome, str] | None:
    """How the current attempt's wait on its pull request ended, when it ended the run here."""
    wait = state.get("merge_wait") or {}
    if wait.get("attempt") != current_attempt(state):
        return None
    number, detail = wait.get("pr_number"), wait.get("detail") or ""
    if wait.get("status") == "closed":
        who = f" by {wait['by']}" if wait.get("by") else ""
        reason = f"pull request #{number} was closed without merging{who}; nothing was changed"
        return RunOutcome.REJECTED, reason
    if wait.get("status") == "recovered":
        return RunOutcome.RECOVERED, f"recovered without action while pull request #{number} waited: {detail}"
    return None


def report_outcome(state: HealingState) -> tuple[RunOutcome, str]:
    """REJECTED (who and why) when a human said no (or closed the pull request), RECOVERED when the
    workload healed on its own while its pull request waited, else REPORTED with the most specific reason."""
    ended = _merge_wait_outcome(state)
    if ended is not None:
        return ended
    approval = state.get("approval") or {}
    if approval.get("status") == "rejected":
        comment = approval.get("comment")
        who = approval.get("by") or "a human"
        return RunOutcome.REJECTED, f"rejected by {who}" + (f": {comment}" if comment else "")
    for entry in entries(state, phase="remediation", attempt=current_attempt(state)):
        if succeeded(entry) and entry.get("pending_merge"):
            url = entry.get("pr_url") or "(no url)"
            return RunOutcome.REPORTED, f"pull request {url} waits for a human to merge"
    decision = state.get("decision")
    rationale = first_line(decision.get("rationale") if decision else None)
    return RunOutcome.REPORTED, rationale or "diagnosis reported; nothing was changed"


def report(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The report node: post the diagnosis, outcome REPORTED (or REJECTED when a human said no)."""
    target = incident_of(state).target
    outcome, reason = report_outcome(state)
    verb = {RunOutcome.REJECTED: "rejected", RunOutcome.RECOVERED: "not needed, it recovered"}.get(
        outcome, "reported"
    )
    return end_run(
        runtime.context,
        state,
        node=NODE,
        phase="report",
        outcome=outcome,
        reason=reason,
        title=f"{target}: diagnosis {verb}",
        severity=Severity.WARNING if outcome is RunOutcome.REJECTED else Severity.INFO,
    )
