"""How a terminal node ends a run: tell humans once, audit it, write the outcome.

The escalate and report nodes (graph/nodes) both post one notification through the context's
notifier and write one audit entry (phase "escalation" or "report", action "notify") whose result
is the notifier's answer, then set the run's `outcome` and a one-line `outcome_reason`. Neither
changes the cluster or the repository.

Idempotent: the audit entry's id is stable per run, attempt and phase
(`graph.action_records.entry_id`), so a resumed or replayed node that finds its own entry in the
state does not notify a second time.
"""

from __future__ import annotations

from typing import Any

from agent.domain import Diagnosis, Incident
from graph.action_records import ActionEntry, Phase, entries, entry_id, make_entry
from graph.context import HealingContext
from graph.state import HealingState, RunOutcome, best_diagnosis, current_attempt, incident_of
from graph.tracing import NodeTrace
from tools.notify import Notification, Severity

ACTION = "notify"
NO_NOTIFIER = "no notifier configured"


def first_line(text: str | None) -> str:
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
    ctx: HealingContext, incident: Incident, title: str, severity: Severity, reason: str, state: HealingState
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
        created_at=ctx.clock(),
    )


def _send(ctx: HealingContext, notification: Notification, tracer: NodeTrace) -> tuple[str, str]:
    """(status, detail) of posting `notification`; a missing or failing notifier is recorded, not raised."""
    if ctx.notifier is None:
        return "unavailable", NO_NOTIFIER
    try:
        result = ctx.notifier.send(notification, sink=tracer.sink)
    except Exception as exc:  # the contract says send never raises; the run must end cleanly anyway
        tracer.error(f"notifier raised: {type(exc).__name__}: {exc}", exc)
        return "error", f"notifier raised {type(exc).__name__}: {exc}"
    if result.ok:
        return result.status.value, "notification delivered"
    return result.status.value, result.error or "notification failed"


def end_run(
    ctx: HealingContext,
    state: HealingState,
    *,
    node: str,
    phase: Phase,
    outcome: RunOutcome,
    reason: str,
    title: str,
    severity: Severity,
) -> dict[str, Any]:
    """Notify once, record it, and end the run with `outcome`: the terminal node's update."""
    incident = incident_of(state)
    tracer = NodeTrace(state["run_id"], node, ctx.emit)
    tracer.start(target=str(incident.target), outcome=outcome.value)
    update: dict[str, Any] = {"outcome": outcome.value, "outcome_reason": reason}
    wanted = notify_entry_id(state, phase)
    if any(e.get("id") == wanted for e in entries(state)):
        # A resume replays the node: the humans were told already, so only the outcome is (re)written.
        tracer.end(f"{outcome.value}: {reason} (already notified)")
        return update
    status, detail = _send(ctx, _notification(ctx, incident, title, severity, reason, state), tracer)
    entry: ActionEntry = make_entry(
        run_id=state["run_id"],
        attempt=current_attempt(state),
        phase=phase,
        action=ACTION,
        target=str(incident.target),
        who=ctx.actor,
        what=title,
        why=reason,
        status=status,
        detail=detail,
        at=ctx.clock(),
    )
    tracer.action(entry)
    tracer.end(f"{outcome.value}: {reason}; notification {status}")
    return {"actions": [entry], **update}
