"""The circuit breaker: the pure state machine and the in-memory store (the run store keeps the
server's: tests/server/test_breaker_table.py)."""

from __future__ import annotations

import pytest

from agent.config import BreakerSettings
from graph.breaker import (
    REASONER_KEY,
    BreakerPolicy,
    BreakerState,
    BreakerStatus,
    CircuitBreaker,
    InMemoryBreakerStore,
    allows,
    in_window,
    record_event,
    record_success,
    status,
)
from tests.clocks import ManualClock

POLICY = BreakerPolicy(limit=3, window_seconds=100, cooldown_seconds=50)


def _events(times: list[float], policy: BreakerPolicy = POLICY) -> BreakerState:
    state = BreakerState()
    for t in times:
        state = record_event(state, policy, t)
    return state


def test_closed_until_limit_events_in_window() -> None:
    state = _events([0, 10])
    assert status(state, POLICY, 10) is BreakerStatus.CLOSED
    state = record_event(state, POLICY, 20)
    assert status(state, POLICY, 20) is BreakerStatus.OPEN
    assert not allows(state, POLICY, 20)
    assert state.opened_at == 20


def test_sliding_window_forgets_old_events() -> None:
    state = _events([0, 10, 120])  # the first two fell out of the window by t=120
    assert status(state, POLICY, 120) is BreakerStatus.CLOSED
    assert in_window(state, POLICY, 120) == 1
    assert state.events == (120,)


def test_cooldown_leads_to_half_open_then_trial_reopens() -> None:
    state = _events([0, 1, 2])  # opens at 2
    assert status(state, POLICY, 51.9) is BreakerStatus.OPEN
    assert status(state, POLICY, 52) is BreakerStatus.HALF_OPEN
    assert allows(state, POLICY, 52)
    trial = record_event(state, POLICY, 60)
    assert status(trial, POLICY, 61) is BreakerStatus.OPEN
    assert trial.probing


def test_trial_success_closes_and_clears() -> None:
    state = record_event(_events([0, 1, 2]), POLICY, 60)
    closed = record_success(state, POLICY, 70)
    assert status(closed, POLICY, 70) is BreakerStatus.CLOSED
    assert closed == BreakerState()


def test_success_does_not_cut_a_cooldown_short() -> None:
    state = _events([0, 1, 2])
    assert record_success(state, POLICY, 10) == state


def test_target_success_keeps_counting_but_reasoner_success_resets() -> None:
    state = _events([0, 1])
    assert record_success(state, POLICY, 2).events == (0, 1)
    reasoner = BreakerPolicy(limit=3, window_seconds=100, cooldown_seconds=50, reset_on_success=True)
    assert record_success(_events([0, 1], reasoner), reasoner, 2) == BreakerState()


def test_event_while_open_restarts_cooldown() -> None:
    state = record_event(_events([0, 1, 2]), POLICY, 30)
    assert state.opened_at == 30
    assert status(state, POLICY, 60) is BreakerStatus.OPEN


def test_zero_cooldown_is_half_open_immediately() -> None:
    policy = BreakerPolicy(limit=1, window_seconds=10, cooldown_seconds=0)
    state = record_event(BreakerState(), policy, 5)
    assert status(state, policy, 5) is BreakerStatus.HALF_OPEN


@pytest.mark.parametrize(
    ("limit", "window", "cooldown"), [(0, 10, 1), (1, 0, 1), (1, 10, -1)], ids=["limit", "window", "cool"]
)
def test_bad_policy_is_refused(limit: int, window: float, cooldown: float) -> None:
    with pytest.raises(ValueError, match="breaker"):
        BreakerPolicy(limit, window, cooldown)


def test_policies_from_settings() -> None:
    settings = BreakerSettings(
        max_attempts=2, window_seconds=60, cooldown_seconds=30, llm_failure_limit=4, llm_cooldown_seconds=9
    )
    assert BreakerPolicy.for_targets(settings) == BreakerPolicy(2, 60, 30)
    assert BreakerPolicy.for_reasoner(settings) == BreakerPolicy(4, 60, 9, reset_on_success=True)


def test_state_json_round_trip_and_corruption() -> None:
    state = BreakerState((1.0, 2.5), opened_at=2.5, probing=True)
    assert BreakerState.from_json(state.to_json()) == state
    with pytest.raises(ValueError, match="corrupt breaker state"):
        BreakerState.from_json('{"events": "x"}')


def test_circuit_breaker_over_the_in_memory_store() -> None:
    clock = ManualClock(1000.0)
    breaker = CircuitBreaker(InMemoryBreakerStore(), POLICY, clock)
    key = "shop/deployment/web"
    for _ in range(3):
        assert breaker.allows(key)
        breaker.record_event(key)
    view = breaker.view(key)
    assert view.status is BreakerStatus.OPEN and view.events_in_window == 3 and view.reopens_at == 1050
    assert "open (3/3 in window)" in view.describe()
    assert not breaker.allows(key)
    assert breaker.allows("other/deployment/x")  # keyed per target
    assert breaker.allows(REASONER_KEY)
    clock.now = 1050
    assert breaker.view(key).status is BreakerStatus.HALF_OPEN
    assert breaker.record_event(key).status is BreakerStatus.OPEN  # the trial
    assert breaker.record_success(key).status is BreakerStatus.CLOSED
