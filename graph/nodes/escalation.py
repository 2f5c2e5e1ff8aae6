"""The terminal nodes that hand a run to humans: escalate (something needs a person) and report.

Both post one notification through `deps.notifier` and write one audit entry (phase
"escalation" or "report", action "notify") whose result is the notifier's answer, then set the
run's `outcome` and a one-line `outcome_reason`. Neither changes the cluster or the repository.

Idempotent: the audit entry's id is stable per run, attempt and phase (`records.entry_id`), so a
resumed or replayed node that finds its own entry in the state does not notify a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agent.domain import Diagnosis, Incident
from graph.deps import GraphDeps
from graph.nodes.records import ActionEntry, Phase, entries, entry_id, make_entry, succeeded
from graph.state import HealingState, Outcome, best_diagnosis, current_attempt, incident_of
from graph.tracing import NodeTrace
from tools.notify import Notification, Severity

ACTION = "notify"
NO_NOTIFIER = "no notifier configured"

Node = Callable[[HealingState], dict[str, Any]]


def _first_line(text: str | None) -> str:
    """The first non-blank line of `text`, stripped ("" when there is none)."""
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def notify_entry_id(state: HealingState, phase: Phase) -> str:
    """The id of this phase's notification entry for the current attempt (what `make_entry` gives it)."""
    return entry_id(state["run_id"], current_attempt(state), phase, ACTION)


def pr_urls(state: HealingState) -> list[str]:
    """The pull request URLs of the run's action entries, oldest first, without repeats."""
    urls = [str(e["pr_url"]) for e in entries(state) if e.get("pr_url")]
    return list(dict.fromkeys(urls))


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


def escalation_reason(state: HealingState) -> str:
    """The most specific reason the run needs a human, most specific first."""
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
    rationale = _first_line((state.get("decision") or {}).get("rationale"))
    if rationale:
        return rationale
    if state.get("reasoner_error"):
        return f"no diagnosis: {state['reasoner_error']}"
    return "escalated without a recorded reason"


def report_outcome(state: HealingState) -> tuple[Outcome, str]:
    """REJECTED (who and why) when a human said no, else REPORTED with the most specific reason."""
    approval = state.get("approval") or {}
    if approval.get("status") == "rejected":
        comment = approval.get("comment")
        who = approval.get("by") or "a human"
        return Outcome.REJECTED, f"rejected by {who}" + (f": {comment}" if comment else "")
    for entry in entries(state, phase="remediation", attempt=current_attempt(state)):
        if succeeded(entry) and entry.get("pending_merge"):
            url = entry.get("pr_url") or "(no url)"
            return Outcome.REPORTED, f"pull request {url} waits for a human to merge"
    rationale = _first_line((state.get("decision") or {}).get("rationale"))
    return Outcome.REPORTED, rationale or "diagnosis reported; nothing was changed"


def _body(reason: str, diagnosis: Diagnosis | None, urls: list[str]) -> str:
    lines = [reason]
    if diagnosis is None:
        lines.append("Diagnosis: none")
    else:
        lines.append(
            f"Diagnosis: {diagnosis.category.value} ({diagnosis.confidence:.0%}): {diagnosis.explanation}"
        )
    lines += [f"Pull request: {url}" for url in urls]
    return "\n".join(lines)


def _notification(
    deps: GraphDeps, incident: Incident, title: str, severity: Severity, reason: str, state: HealingState
) -> Notification:
    diagnosis = best_diagnosis(state)
    urls = pr_urls(state)
    # The field must be an http(s) URL; a malformed one stays in the body rather than failing the node.
    link = next((u for u in reversed(urls) if u.startswith(("http://", "https://"))), None)
    return Notification(
        title=title,
        severity=severity,
        summary=_body(reason, diagnosis, urls),
        namespace=incident.target.namespace,
        workload=f"{incident.target.kind}/{incident.target.name}",
        root_cause=diagnosis.category.value if diagnosis else None,
        confidence=diagnosis.confidence if diagnosis else None,
        action=diagnosis.remediation.action.value if diagnosis and diagnosis.remediation else None,
        pr_url=link,
        created_at=deps.clock(),
    )


def _send(deps: GraphDeps, notification: Notification, tracer: NodeTrace) -> tuple[str, str]:
    """(status, detail) of posting `notification`; a missing or failing notifier is recorded, not raised."""
    if deps.notifier is None:
        return "unavailable", NO_NOTIFIER
    try:
        result = deps.notifier.send(notification, sink=tracer.sink)
    except Exception as exc:  # the contract says send never raises; the run must end cleanly anyway
        tracer.error(f"notifier raised: {type(exc).__name__}: {exc}", exc)
        return "error", f"notifier raised {type(exc).__name__}: {exc}"
    if result.ok:
        return result.status.value, "notification delivered"
    return result.status.value, result.error or "notification failed"


def _terminal(
    deps: GraphDeps,
    state: HealingState,
    *,
    node: str,
    phase: Phase,
    outcome: Outcome,
    reason: str,
    title: str,
    severity: Severity,
) -> dict[str, Any]:
    """Notify once, record it, and end the run with `outcome`."""
    incident = incident_of(state)
    tracer = NodeTrace(state["run_id"], node, deps.emit)
    tracer.start(target=str(incident.target), outcome=outcome.value)
    update: dict[str, Any] = {"outcome": outcome.value, "outcome_reason": reason}
    wanted = notify_entry_id(state, phase)
    if any(e.get("id") == wanted for e in entries(state)):
        # A resume replays the node: the humans were told already, so only the outcome is (re)written.
        tracer.end(f"{outcome.value}: {reason} (already notified)")
        return update
    status, detail = _send(deps, _notification(deps, incident, title, severity, reason, state), tracer)
    entry: ActionEntry = make_entry(
        run_id=state["run_id"],
        attempt=current_attempt(state),
        phase=phase,
        action=ACTION,
        target=str(incident.target),
        who=deps.actor,
        what=title,
        why=reason,
        status=status,
        detail=detail,
        at=deps.clock(),
    )
    tracer.action(entry)
    tracer.end(f"{outcome.value}: {reason}; notification {status}")
    return {"actions": [entry], **update}


def make_escalation_node(deps: GraphDeps) -> Node:
    """The escalate node: notify humans with the most specific reason, outcome ESCALATED."""

    def escalate(state: HealingState) -> dict[str, Any]:
        target = incident_of(state).target
        return _terminal(
            deps,
            state,
            node="escalate",
            phase="escalation",
            outcome=Outcome.ESCALATED,
            reason=escalation_reason(state),
            title=f"{target}: escalated to a human",
            severity=Severity.CRITICAL,
        )

    return escalate


def make_report_node(deps: GraphDeps) -> Node:
    """The report node: post the diagnosis without changing anything, outcome REPORTED or REJECTED."""

    def report(state: HealingState) -> dict[str, Any]:
        target = incident_of(state).target
        outcome, reason = report_outcome(state)
        verb = "rejected" if outcome is Outcome.REJECTED else "reported"
        return _terminal(
            deps,
            state,
            node="report",
            phase="report",
            outcome=outcome,
            reason=reason,
            title=f"{target}: diagnosis {verb}",
            severity=Severity.WARNING if outcome is Outcome.REJECTED else Severity.INFO,
        )

    return report
