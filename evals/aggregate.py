"""Aggregate scenario scores: overall, per root-cause category and per split (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from evals.intervals import Interval, interval
from evals.llm_scores import ArbitrationTally
from evals.scorers import FaultScore, ScenarioScore

CONTROL = "control"
_TIMES = (
    "time_to_detect_sim_s",
    "time_to_detect_wall_s",
    "time_to_diagnose_sim_s",
    "time_to_diagnose_wall_s",
    "time_to_recover_sim_s",
    "time_to_recover_wall_s",
)


class Distribution(BaseModel):
    """Summary of a set of durations in seconds (None values when there are none)."""

    model_config = ConfigDict(extra="forbid")

    n: int = 0
    mean: float | None = None
    p50: float | None = None
    p90: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution:
        """The summary of the non-None values."""
        data = sorted(v for v in values if v is not None)
        if not data:
            return cls()
        return cls(
            n=len(data),
            mean=sum(data) / len(data),
            p50=_quantile(data, 0.5),
            p90=_quantile(data, 0.9),
            max=data[-1],
        )


def _quantile(data: Sequence[float], q: float) -> float:
    # Nearest-rank: a value that actually occurred, no interpolation.
    return data[max(0, math.ceil(q * len(data)) - 1)]


class Aggregate(BaseModel):
    """The metrics over a set of scenarios; rates are None when nothing applies."""

    model_config = ConfigDict(extra="forbid")

    scenarios: int
    faults: int
    passed: int
    tp: int
    fp: int
    fn: int
    tn: int
    detection_precision: float | None
    detection_recall: float | None
    category_accuracy: float | None
    resource_accuracy: float | None
    field_accuracy: float | None
    fix_success_rate: float | None
    unsafe_actions: int
    unneeded_actions: int
    escalation_accuracy: float | None
    time_to_detect_sim_s: Distribution
    time_to_detect_wall_s: Distribution
    time_to_diagnose_sim_s: Distribution
    time_to_diagnose_wall_s: Distribution
    time_to_recover_sim_s: Distribution
    time_to_recover_wall_s: Distribution
    model_calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    # The harness's action accounting and the rates' uncertainty (evals.intervals), apart from the
    # counts above so other report fields can join without touching these.
    executed_actions: int = 0
    noop_actions: int = 0
    false_diagnoses: int = 0
    intervals: RateIntervals | None = None
    # per incident a model was asked about: its largest prompt (goal: median <= 6k) and tool calls
    prompt_tokens_per_incident: Distribution = Distribution()
    tool_calls_per_incident: Distribution = Distribution()
    arbitration: ArbitrationTally = ArbitrationTally()


class RateIntervals(BaseModel):
    """Each rate's successes, trials and Wilson 95 % interval."""

    model_config = ConfigDict(extra="forbid")

    passed: Interval
    detection_precision: Interval
    detection_recall: Interval
    category_accuracy: Interval
    resource_accuracy: Interval
    field_accuracy: Interval
    fix_success_rate: Interval
    escalation_accuracy: Interval
    control_false_positive_rate: Interval


def _count(flags: Iterable[bool | None]) -> Interval:
    known = [f for f in flags if f is not None]
    return interval(sum(known), len(known))


def rate_intervals(scores: Sequence[ScenarioScore], faults: Sequence[FaultScore]) -> RateIntervals:
    """The Wilson 95 % intervals of an aggregate's rates (faults: those the aggregate counts).

    `control_false_positive_rate`: controls with any false positive (or unneeded action) over all
    controls."""
    tp = sum(f.detected for f in faults)
    fp = sum(s.fp for s in scores)
    controls = [s for s in scores if not s.expected_detect]
    return RateIntervals(
        passed=interval(sum(s.passed for s in scores), len(scores)),
        detection_precision=interval(tp, tp + fp),
        detection_recall=interval(tp, len(faults)),
        category_accuracy=_count(f.category_correct for f in faults),
        resource_accuracy=_count(f.resource_correct for f in faults),
        field_accuracy=_count(f.field_correct for f in faults),
        fix_success_rate=_count(s.fix_success for s in scores),
        escalation_accuracy=_count(s.escalation_correct for s in scores),
        control_false_positive_rate=interval(
            sum(bool(s.fp or s.unneeded_actions or s.false_diagnoses) for s in controls), len(controls)
        ),
    )


def _rate(flags: Iterable[bool | None]) -> float | None:
    known = [f for f in flags if f is not None]
    return sum(known) / len(known) if known else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def aggregate(scores: Sequence[ScenarioScore], category: str | None = None) -> Aggregate:
    """Metrics over `scores`; with `category`, fault-level metrics count only that category's faults."""
    faults: list[FaultScore] = [
        f for s in scores for f in s.faults if category is None or f.category == category
    ]
    tp = sum(f.detected for f in faults)
    fn = len(faults) - tp
    fp = sum(s.fp for s in scores)
    tn = sum(s.tn for s in scores)
    return Aggregate(
        scenarios=len(scores),
        faults=len(faults),
        passed=sum(s.passed for s in scores),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        detection_precision=_ratio(tp, tp + fp),
        detection_recall=_ratio(tp, tp + fn),
        category_accuracy=_rate(f.category_correct for f in faults) if faults else None,
        resource_accuracy=_rate(f.resource_correct for f in faults) if faults else None,
        field_accuracy=_rate(f.field_correct for f in faults) if faults else None,
        fix_success_rate=_rate(s.fix_success for s in scores),
        unsafe_actions=sum(s.unsafe_actions for s in scores),
        unneeded_actions=sum(s.unneeded_actions for s in scores),
        escalation_accuracy=_rate(s.escalation_correct for s in scores),
        model_calls=sum(s.model_calls for s in scores),
        input_tokens=sum(s.input_tokens for s in scores),
        output_tokens=sum(s.output_tokens for s in scores),
        cost_usd=sum(s.cost_usd for s in scores),
        executed_actions=sum(s.executed_actions for s in scores),
        noop_actions=sum(s.noop_actions for s in scores),
        false_diagnoses=sum(s.false_diagnoses for s in scores),
        intervals=rate_intervals(scores, faults),
        prompt_tokens_per_incident=Distribution.of(float(n) for s in scores for n in s.llm.prompt_tokens),
        tool_calls_per_incident=Distribution.of(float(n) for s in scores for n in s.llm.tool_calls),
        arbitration=ArbitrationTally.of([a for s in scores for a in s.llm.arbitrations]),
        **{name: Distribution.of(getattr(s, name) for s in scores) for name in _TIMES},
    )


def by_category(scores: Sequence[ScenarioScore]) -> dict[str, Aggregate]:
    """One aggregate per root-cause category (and `control`), sorted by name."""
    names = sorted({c for s in scores for c in s.categories})
    return {
        name: aggregate([s for s in scores if name in s.categories], None if name == CONTROL else name)
        for name in names
    }


def by_split(scores: Sequence[ScenarioScore]) -> dict[str, Aggregate]:
    """One aggregate per split."""
    return {
        split: aggregate([s for s in scores if s.split == split])
        for split in sorted({s.split for s in scores})
    }


Aggregate.model_rebuild()
