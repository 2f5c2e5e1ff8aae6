"""The routes after remediation, a merge wait and verification: every branch, with the budget and the
breaker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from graph.action_records import make_entry
from graph.breaker import CircuitBreaker, target_key
from graph.context import Breakers, HealingContext
from graph.edges import route_after_merge_wait, route_after_remediation, route_after_verification
from graph.state import RunOutcome, VerificationRecord, initial_state
from tests.agent import evidence_samples as samples
from tests.graph.contexts import bound, breaker, healing_context

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _context(target: CircuitBreaker | None = None, max_attempts: int = 3) -> HealingContext:
    return healing_context(breakers=Breakers(target or breaker(), breaker()), max_attempts=max_attempts)


def _state(attempt: int = 1):
    state = initial_state("run-e", samples.incident())
    state["attempt"] = attempt
    return state


def _remediation(attempt: int = 1, status: str = "ok", key: str = "", **extra):
    return make_entry(
        run_id="run-e",
        attempt=attempt,
        phase="remediation",
        action="rollback",
        target="shop/deployment/web-api",
        who="paramedic",
        what="roll back",
        why="bad image",
        status=status,
        detail="done" if status == "ok" else "boom",
        at=AT,
        key=key,
        **extra,
    )


def _verification(attempt: int, healthy: bool) -> VerificationRecord:
    return VerificationRecord(
        attempt=attempt, healthy=healthy, detail="pods crash", checked_at=AT.isoformat()
    )


def test_applied_change_goes_to_verification() -> None:
    state = _state()
    state["actions"] = [_remediation(applied=True)]
    assert route_after_remediation(state) == "verification"


def test_pending_pull_request_makes_the_run_wait_for_it() -> None:
    state = _state()
    state["actions"] = [_remediation(pending_merge=True, pr_url="https://git.example/pr/7")]
    assert route_after_remediation(state) == "wait"


def test_failed_or_denied_or_missing_remediation_escalates() -> None:
    failed = _state()
    failed["actions"] = [_remediation(status="error", applied=True)]
    denied = _state()
    denied["actions"] = [_remediation(status="denied")]
    assert route_after_remediation(failed) == "escalate"
    assert route_after_remediation(denied) == "escalate"
    assert route_after_remediation(_state()) == "escalate"


def test_only_the_current_attempts_entries_count() -> None:
    state = _state(attempt=2)
    state["actions"] = [_remediation(attempt=1, applied=True)]
    assert route_after_remediation(state) == "escalate"
    state["actions"] = [*state["actions"], _remediation(attempt=2, pending_merge=True)]
    assert route_after_remediation(state) == "wait"


def test_applied_wins_over_pending_merge() -> None:
    state = _state()
    state["actions"] = [_remediation(key="a", pending_merge=True), _remediation(key="b", applied=True)]
    assert route_after_remediation(state) == "verification"


def test_healed_outcome_ends_the_run() -> None:
    state = _state()
    state["verifications"] = [_verification(1, True)]
    state["outcome"] = RunOutcome.HEALED.value
    assert bound(route_after_verification, _context())(state) == "healed"


def test_unhealthy_with_bumped_attempt_and_budget_retries() -> None:
    state = _state(attempt=2)
    state["verifications"] = [_verification(1, False)]
    assert bound(route_after_verification, _context())(state) == "analyst"


def test_unhealthy_without_bump_rolls_back() -> None:
    state = _state(attempt=1)
    state["verifications"] = [_verification(1, False)]
    assert bound(route_after_verification, _context())(state) == "rollback"


def test_budget_spent_rolls_back() -> None:
    state = _state(attempt=3)
    state["verifications"] = [_verification(2, False)]
    assert bound(route_after_verification, _context(max_attempts=2))(state) == "rollback"
    assert bound(route_after_verification, _context(max_attempts=3))(state) == "analyst"


def test_open_target_breaker_rolls_back() -> None:
    tripped = breaker(limit=1)
    incident = samples.incident()
    tripped.record_event(target_key(incident.target))  # one attempt trips a limit-1 breaker
    assert not tripped.allows(target_key(incident.target))
    state = _state(attempt=2)
    state["verifications"] = [_verification(1, False)]
    assert bound(route_after_verification, _context(target=tripped))(state) == "rollback"


def test_contract_breaches_fail_closed_to_rollback() -> None:
    route = bound(route_after_verification, _context())
    assert route(_state()) == "rollback"  # no verification at all
    healthy_without_outcome = _state(attempt=2)
    healthy_without_outcome["verifications"] = [_verification(1, True)]
    assert route(healthy_without_outcome) == "rollback"


@pytest.mark.parametrize(
    ("status", "route"),
    [
        ("merged", "verification"),
        ("closed", "report"),
        ("recovered", "report"),
        ("timeout", "escalate"),
        ("invalid", "escalate"),
        ("waiting", "escalate"),
    ],
)
def test_the_end_of_a_merge_wait_decides_where_the_run_goes(status: str, route: str) -> None:
    state = _state(attempt=2)
    state["merge_wait"] = {"attempt": 2, "pr_number": 7, "status": status}  # type: ignore[typeddict-item]
    assert route_after_merge_wait(state) == route


def test_a_merge_wait_of_another_attempt_escalates() -> None:
    state = _state(attempt=2)
    state["merge_wait"] = {"attempt": 1, "pr_number": 7, "status": "merged"}
    assert route_after_merge_wait(state) == "escalate"
