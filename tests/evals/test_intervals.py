"""Wilson 95 % intervals: known values, the ends, bad input."""

from __future__ import annotations

import pytest

from evals.intervals import interval, wilson


def test_a_known_value():
    low, high = wilson(19, 26)  # type: ignore[misc]
    assert low == pytest.approx(0.5390, abs=1e-3) and high == pytest.approx(0.8621, abs=1e-3)


def test_the_ends_stay_inside_zero_and_one():
    assert wilson(0, 10)[0] == 0.0 and 0 < wilson(0, 10)[1] < 0.35  # type: ignore[index]
    assert wilson(10, 10)[1] == 1.0 and 0.65 < wilson(10, 10)[0] < 1  # type: ignore[index]


def test_more_trials_narrow_the_interval():
    small, big = wilson(9, 10), wilson(90, 100)
    assert small is not None and big is not None
    assert big[1] - big[0] < small[1] - small[0]


def test_no_trial_has_no_interval_and_bad_counts_are_refused():
    empty = interval(0, 0)
    assert empty.low is None and empty.high is None and empty.rate is None
    with pytest.raises(ValueError, match="successes <= trials"):
        wilson(3, 2)
    assert interval(3, 4).rate == 0.75
