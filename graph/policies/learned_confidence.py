"""Learned confidence: how often a kind of fix really worked, turned into the act threshold the
decision applies. A pure function of the recorded outcomes (graph.memory.FixHistory).

Each success rate is the mean of a Beta posterior: a Beta(PRIOR_SUCCESSES, PRIOR_FAILURES) prior
(mean 0.8, worth ten runs) plus the recorded successes and failures, so a handful of runs moves
it only a little. A human's rejection counts as a failure. The weaker of the two rates, for the
root cause everywhere and on this workload, sets the threshold: each point it falls below the
prior's mean raises the act threshold by a point (up to 1.0: never act unasked). A record better
than the prior never lowers it: the record can come from an imported memory, and nothing in a file
may loosen the operator's threshold (the check fails closed). A fix kind that
failed `FAILURES_HERE_TO_ASK` times in a row on this workload asks a human, whatever the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.config import Thresholds
from graph.memory.models import FixHistory, TrackRecord

PRIOR_SUCCESSES = 8.0
PRIOR_FAILURES = 2.0
PRIOR_MEAN = PRIOR_SUCCESSES / (PRIOR_SUCCESSES + PRIOR_FAILURES)
FAILURES_HERE_TO_ASK = 2


def expected_success(record: TrackRecord) -> float:
    """The Beta posterior mean of the fix's success rate."""
    return (PRIOR_SUCCESSES + record.successes) / (PRIOR_SUCCESSES + PRIOR_FAILURES + record.total)


@dataclass(frozen=True)
class LearnedConfidence:
    """What the record says: the act threshold to apply, whether to ask instead of acting, and why."""

    thresholds: Thresholds
    ask_instead: bool
    reason: str
    overall: float  # expected success for the root cause everywhere
    here: float  # expected success on this workload

    def to_data(self) -> dict[str, Any]:
        """As JSON, for the decision record."""
        return {
            "act_threshold": round(self.thresholds.act, 3),
            "ask_instead": self.ask_instead,
            "expected_success": round(self.overall, 3),
            "expected_success_here": round(self.here, 3),
            "reason": self.reason,
        }


def _counts(record: TrackRecord) -> str:
    rejected = f", {record.rejections} rejected by a human" if record.rejections else ""
    return f"{record.successes} of {record.total} worked{rejected}"


def learned_confidence(history: FixHistory, thresholds: Thresholds) -> LearnedConfidence:
    """The act threshold (and ask-instead verdict) that `history` earns against the configured ones."""
    overall, here = expected_success(history.overall), expected_success(history.here)
    weakest = min(overall, here)
    shift = PRIOR_MEAN - weakest
    act = min(1.0, thresholds.act + max(0.0, shift))
    ask_instead = history.here.recent_failures >= FAILURES_HERE_TO_ASK
    reason = (
        f"{history.fix_kind} for {history.category}: {_counts(history.overall)} overall "
        f"(expected success {overall:.2f}), {_counts(history.here)} on this workload "
        f"(expected {here:.2f}); act threshold {thresholds.act:.2f} -> {act:.2f}"
    )
    if ask_instead:
        reason += f"; it failed the last {history.here.recent_failures} times here, so a human decides"
    return LearnedConfidence(
        thresholds=Thresholds(act=act, ask=thresholds.ask),
        ask_instead=ask_instead,
        reason=reason,
        overall=overall,
        here=here,
    )
