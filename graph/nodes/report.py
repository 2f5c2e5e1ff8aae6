"""The report node: post the diagnosis without changing anything, outcome REPORTED or REJECTED.

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


def report_outcome(state: HealingState) -> tuple[RunOutcome, str]:
    """REJECTED (who and why) when a human said no, else REPORTED with the most specific reason."""
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
    verb = "rejected" if outcome is RunOutcome.REJECTED else "reported"
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
