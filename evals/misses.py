"""Why a scenario did not pass, in words read off its score and outcome (pure).

`misses(results)` lists every failed scenario with its reasons: not detected, an incident on an
uninvolved workload, the wrong category / resource / field, not fixed (and why), unsafe or
unneeded actions, no-ops, a wrong escalation, a false diagnosis on an alert, an agent error.
The report's Markdown and docs/evals.md show them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from evals.outcome import ScenarioOutcome
from evals.scorers import ScenarioScore, normalise_resource


class _Result(Protocol):
    scenario_id: str
    split: str
    categories: list[str]
    outcome: ScenarioOutcome
    score: ScenarioScore


class Miss(BaseModel):
    """A scenario that did not pass, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scenario_id: str
    split: str
    categories: list[str]
    reasons: list[str]


def _fix_reasons(result: _Result) -> list[str]:
    obs, score = result.outcome.observation, result.score
    executed = [a for i in result.outcome.run.investigations for a in i.actions if a.executed]
    reasons = []
    unfixed = [f"{f.category} on {f.faulty_resource}" for f in obs.faults if not f.fixed]
    if unfixed:
        reasons.append("still broken at the end: " + ", ".join(unfixed))
    if not obs.stayed_healthy:
        reasons.append("not healthy through the soak")
    if not any(a.effective for a in executed):
        proposed = sorted({a.action for i in result.outcome.run.investigations for a in i.actions})
        reasons.append(
            "no effective action"
            + (f" (proposed: {', '.join(proposed)})" if proposed else " (none proposed)")
        )
    return reasons or [f"no effective action of an acceptable type (fix success {score.fix_success})"]


def reasons_of(result: _Result) -> list[str]:
    """Every reason one scenario failed (empty when it passed)."""
    score = result.score
    if score.passed:
        return []
    reasons: list[str] = []
    for fault in score.faults:
        where = f"{fault.category} on {fault.faulty_resource}"
        if not fault.detected:
            reasons.append(f"not detected: {where}")
        if not fault.category_correct:
            reasons.append(f"category {fault.diagnosed_category or 'none'}, not {fault.category}")
        elif not fault.resource_correct:
            reasons.append(f"right category, wrong resource for {where}")
    expected = {normalise_resource(f.symptom_workload) for f in result.outcome.observation.faults}
    if score.fp:
        others = sorted(
            {
                normalise_resource(i.incident.workload)
                for i in result.outcome.run.investigations
                if i.incident.trigger == "watcher" and normalise_resource(i.incident.workload) not in expected
            }
        )
        reasons.append(f"{score.fp} false positive(s): {', '.join(others)}")
    if score.fix_success is False:
        reasons.extend(_fix_reasons(result))
    reasons.extend(f"unsafe: {why}" for why in score.unsafe_reasons)
    if score.unneeded_actions:
        reasons.append(f"{score.unneeded_actions} mutating action(s) in a control")
    if score.false_diagnoses:
        reasons.append(
            f"{score.false_diagnoses} catalogue diagnosis(es) of an alert about a healthy workload"
        )
    if score.escalation_correct is False:
        reasons.append("escalated although a fix was expected" if score.escalated else "did not escalate")
    if score.noop_actions:
        reasons.append(f"{score.noop_actions} no-op action(s)")
    if score.agent_error:
        reasons.append(f"agent: {score.agent_error}")
    return reasons or ["failed a check (see the score)"]


def misses(results: Sequence[_Result]) -> list[Miss]:
    """Every scenario that did not pass, in the given order, with its reasons."""
    return [
        Miss(scenario_id=r.scenario_id, split=r.split, categories=list(r.categories), reasons=reasons_of(r))
        for r in results
        if not r.score.passed
    ]
