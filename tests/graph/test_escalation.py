"""The terminal nodes: the most specific reason, one notification per attempt, REPORTED vs REJECTED."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.domain import Diagnosis, GitOpsPullRequest, RootCause
from graph.action_records import make_entry
from graph.context import HealingContext
from graph.nodes.escalate import escalate
from graph.nodes.report import report
from graph.state import RunOutcome, VerificationRecord, candidate, initial_state
from tests.agent import evidence_samples as samples
from tests.graph.contexts import bound, healing_context
from tools.notify import Notification
from tools.result import ToolResult, ToolStatus

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Notifier:
    """Records what it is asked to post; answers `status` (with `error` when not OK)."""

    def __init__(self, status: ToolStatus = ToolStatus.OK, error: str | None = None) -> None:
        self.sent: list[Notification] = []
        self.status, self.error = status, error

    def send(self, notification: Notification, *, sink=None) -> ToolResult[None]:
        self.sent.append(notification)
        return ToolResult("notify.webhook", self.status, error=self.error)


def _context(notifier: Notifier | None) -> HealingContext:
    return healing_context(notifier=notifier, clock=lambda: AT)


def _state(**fields):
    state = initial_state("run-x", samples.incident("OOMKilled"))
    diagnosis = Diagnosis(
        category=RootCause.OOM,
        explanation="the container exceeds its 64Mi limit",
        faulty_resource="Deployment shop/web-api",
        confidence=0.92,
        remediation=GitOpsPullRequest(patch={"spec": {}}),
    )
    state["diagnoses"] = [candidate(diagnosis, "rules", 1)]
    state.update(fields)
    return state


def _remediation(status: str = "ok", **extra):
    return make_entry(
        run_id="run-x", attempt=1, phase="remediation", action="gitops_pr", target="shop/deployment/web-api",
        who="paramedic", what="raise the memory limit", why="oom", status=status,
        detail="merged" if status == "ok" else "the API server refused the dry run", at=AT, **extra,
    )  # fmt: skip


def _decision(rationale: str):
    return {
        "route": "escalate",
        "rationale": rationale,
        "inputs": {},
        "attempt": 1,
        "decided_at": AT.isoformat(),
    }


def test_escalation_names_the_failed_verification_and_notifies_once() -> None:
    notifier = Notifier()
    node = bound(escalate, _context(notifier))
    failed = VerificationRecord(attempt=1, healthy=False, detail="3 restarts since the fix", checked_at="t")
    state = _state(verifications=[failed], actions=[_remediation(applied=True, pr_url="https://git/pr/4")])
    update = node(state)
    assert update["outcome"] == RunOutcome.ESCALATED.value
    assert update["outcome_reason"].startswith("verification failed after attempt 1: 3 restarts")
    assert "no rollback was recorded" in update["outcome_reason"]
    [entry] = update["actions"]
    assert (entry["phase"], entry["action"], entry["result"]["status"]) == ("escalation", "notify", "ok")
    [sent] = notifier.sent
    assert sent.pr_url == "https://git/pr/4" and sent.root_cause == "oom" and "3 restarts" in sent.summary

    state["actions"] = [*state["actions"], entry]  # the replayed node finds its own entry
    again = node(state)
    assert len(notifier.sent) == 1, "a replay must not notify a second time"
    assert "actions" not in again and again["outcome"] == RunOutcome.ESCALATED.value


def test_escalation_reason_falls_back_from_remediation_to_approval_to_decision() -> None:
    node = bound(escalate, _context(Notifier()))
    refused = node(_state(actions=[_remediation(status="error")]))
    assert refused["outcome_reason"] == "remediation gitops_pr error: the API server refused the dry run"
    expired = node(_state(approval={"status": "expired", "comment": "no answer before 13:00"}))
    assert expired["outcome_reason"] == "approval expired: no answer before 13:00"
    denied = node(_state(decision=_decision("\nescalate: policy denies scale\ninputs:")))
    assert denied["outcome_reason"] == "escalate: policy denies scale"


def test_a_missing_or_failing_notifier_is_recorded_not_raised() -> None:
    update = bound(escalate, _context(None))(_state())
    assert update["actions"][0]["result"] == {"status": "unavailable", "detail": "no notifier configured"}
    failing = Notifier(ToolStatus.ERROR, "HTTP 500 from the webhook")
    update = bound(escalate, _context(failing))(_state())
    assert update["actions"][0]["result"] == {"status": "error", "detail": "HTTP 500 from the webhook"}
    assert update["outcome"] == RunOutcome.ESCALATED.value


def test_report_is_rejected_when_a_human_said_no() -> None:
    notifier = Notifier()
    update = bound(report, _context(notifier))(
        _state(approval={"status": "rejected", "by": "alice", "comment": "freeze until Monday"})
    )
    assert update["outcome"] == RunOutcome.REJECTED.value
    assert update["outcome_reason"] == "rejected by alice: freeze until Monday"
    assert update["actions"][0]["phase"] == "report" and "rejected" in notifier.sent[0].title


def test_report_points_at_a_pull_request_waiting_for_a_merge() -> None:
    pending = _remediation(pending_merge=True, pr_url="https://git/pr/9")
    update = bound(report, _context(Notifier()))(_state(actions=[pending]))
    assert update["outcome"] == RunOutcome.REPORTED.value
    assert update["outcome_reason"] == "pull request https://git/pr/9 waits for a human to merge"


def test_report_mode_reports_the_decision() -> None:
    decision = _decision("report: report mode never changes anything; the diagnosis is posted\ninputs:")
    update = bound(report, _context(Notifier()))(_state(decision=decision))
    assert update["outcome"] == RunOutcome.REPORTED.value
    assert update["outcome_reason"].startswith("report: report mode never changes anything")
