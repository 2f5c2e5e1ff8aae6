"""Learned confidence: Beta-smoothed success rates set the act threshold; repeated failures ask."""

from __future__ import annotations

import pytest

from agent.config import Thresholds
from graph.memory import FixHistory, TrackRecord
from graph.policies.learned_confidence import (
    PRIOR_MEAN,
    expected_success,
    learned_confidence,
)

FIX = "patch:resources.limits.memory"


def _history(overall: TrackRecord, here: TrackRecord | None = None) -> FixHistory:
    return FixHistory("oom", FIX, overall, here or TrackRecord())


def test_no_record_keeps_the_configured_thresholds() -> None:
    learned = learned_confidence(_history(TrackRecord()), Thresholds())
    assert learned.thresholds == Thresholds() and not learned.ask_instead
    assert expected_success(TrackRecord()) == PRIOR_MEAN


def test_a_handful_of_runs_moves_the_threshold_only_a_little() -> None:
    one_failure = learned_confidence(_history(TrackRecord(failures=1)), Thresholds())
    assert 0.8 < one_failure.thresholds.act < 0.95
    many_failures = learned_confidence(_history(TrackRecord(successes=2, failures=20)), Thresholds())
    assert many_failures.thresholds.act == 1.0  # never acts unasked any more


def test_a_good_record_never_lowers_the_operators_threshold() -> None:
    # A record can be imported from a file: it may tighten the threshold, never loosen it.
    good = learned_confidence(_history(TrackRecord(successes=50), TrackRecord(successes=20)), Thresholds())
    assert good.thresholds.act == 0.8
    tight = learned_confidence(
        _history(TrackRecord(successes=50), TrackRecord(successes=20)), Thresholds(act=0.52, ask=0.5)
    )
    assert tight.thresholds.act == 0.52


def test_the_weaker_of_overall_and_here_decides() -> None:
    learned = learned_confidence(_history(TrackRecord(successes=30), TrackRecord(failures=1)), Thresholds())
    assert learned.here < learned.overall
    assert learned.thresholds.act == pytest.approx(0.8 + PRIOR_MEAN - learned.here)


def test_two_recent_failures_here_ask_a_human_and_say_why() -> None:
    here = TrackRecord(successes=1, failures=2, rejections=1, recent_failures=2)
    learned = learned_confidence(_history(TrackRecord(successes=9, failures=2), here), Thresholds())
    assert learned.ask_instead
    assert "1 of 3 worked, 1 rejected by a human on this workload" in learned.reason
    assert "failed the last 2 times here" in learned.reason
    assert learned.to_data()["ask_instead"] is True
    one_recent = TrackRecord(successes=1, failures=2, recent_failures=1)
    assert not learned_confidence(_history(TrackRecord(), one_recent), Thresholds()).ask_instead
