"""The deepeval metrics give the scorers' verdicts; GEval is built only with a judge."""

from __future__ import annotations

import pytest
from deepeval.metrics import GEval
from deepeval.models import OllamaModel

from agent.domain import RootCause
from evals.metrics_deepeval import (
    DETERMINISTIC,
    DetectionMetric,
    EscalationMetric,
    FixSuccessMetric,
    RootCauseCategoryMetric,
    SafetyMetric,
    judge_from_env,
    metrics_for,
    to_test_case,
)
from evals.outcome import ActionTaken, DetectedIncident, Investigation
from evals.report import ScenarioResult
from evals.scorers import score
from tests.evals.conftest import WEB, investigation, oom_record

CASES = {
    "correct": ("dev-oom-web-api", lambda: [investigation()], lambda: [oom_record()]),
    "wrong category": (
        "dev-oom-web-api",
        lambda: [investigation(RootCause.BAD_IMAGE)],
        lambda: [oom_record()],
    ),
    "unsafe": (
        "dev-oom-web-api",
        lambda: [investigation(actions=[ActionTaken(action="delete", resource=WEB)])],
        lambda: [oom_record()],
    ),
    "false positive": (
        "dev-control-quiet",
        lambda: [Investigation(incident=DetectedIncident(workload=WEB, reason="x"))],
        lambda: [],
    ),
    "quiet control": ("dev-control-quiet", lambda: [], lambda: []),
}


def _result(scenario, outcome) -> ScenarioResult:
    return ScenarioResult.of(scenario, outcome, score(scenario, outcome), "ground truth")


@pytest.mark.parametrize("case", list(CASES))
def test_metrics_agree_with_the_scorers(case, by_id, outcome_of):
    scenario_id, invs, faults = CASES[case]
    scenario = by_id[scenario_id]
    result = _result(scenario, outcome_of(scenario_id, invs(), faults()))
    s = result.score
    expected = {
        "Detection": s.fn == 0 and s.fp == 0,
        "Root-cause category": s.category_correct,
        "Faulty resource": s.resource_correct,
        "Fix success": s.fix_success,
        "Unsafe actions": s.unsafe_actions == 0,
        "Escalation": s.escalation_correct,
    }
    test_case = to_test_case(scenario, result)
    measured = {}
    for metric in metrics_for(scenario, result):
        metric.measure(test_case)
        measured[metric.__name__] = metric.is_successful()
        assert metric.score == (1.0 if metric.success else 0.0)
        assert metric.reason
    for name, verdict in expected.items():
        assert measured.get(name) == verdict, name


def test_verdicts_of_the_crafted_cases(by_id, outcome_of):
    def verdicts(case):
        scenario_id, invs, faults = CASES[case]
        scenario = by_id[scenario_id]
        result = _result(scenario, outcome_of(scenario_id, invs(), faults()))
        tc = to_test_case(scenario, result)
        out = {}
        for make in (
            DetectionMetric,
            RootCauseCategoryMetric,
            SafetyMetric,
            FixSuccessMetric,
            EscalationMetric,
        ):
            metric = make()
            if metric.applies(result.score):
                metric.measure(tc)
                out[metric.__name__] = metric.success
        return out

    assert all(verdicts("correct").values())
    assert verdicts("wrong category")["Root-cause category"] is False
    assert verdicts("unsafe")["Unsafe actions"] is False
    assert verdicts("false positive") == {"Detection": False, "Unsafe actions": True, "Escalation": True}
    assert verdicts("quiet control")["Detection"] is True


def test_a_metric_that_does_not_apply_refuses_to_measure(by_id, outcome_of):
    scenario = by_id["dev-control-quiet"]
    result = _result(scenario, outcome_of(scenario.id, [], []))
    assert "Root-cause category" not in [m.__name__ for m in metrics_for(scenario, result)]
    with pytest.raises(ValueError, match="does not apply"):
        RootCauseCategoryMetric().measure(to_test_case(scenario, result))


def test_every_deterministic_metric_needs_no_judge():
    for make in DETERMINISTIC:
        metric = make()
        assert metric.model is None and metric.threshold == 1.0


def test_judge_configuration():
    assert judge_from_env({}) is None
    judge = judge_from_env(
        {
            "PARAMEDIC_EVAL_JUDGE": "ollama",
            "PARAMEDIC_EVAL_JUDGE_MODEL": "llama3.1",
            "PARAMEDIC_EVAL_JUDGE_BASE_URL": "http://127.0.0.1:9",
        }
    )
    assert isinstance(judge, OllamaModel)
    with pytest.raises(ValueError, match="MODEL"):
        judge_from_env({"PARAMEDIC_EVAL_JUDGE": "openai"})
    with pytest.raises(ValueError, match="'openai' or 'ollama'"):
        judge_from_env({"PARAMEDIC_EVAL_JUDGE": "bard", "PARAMEDIC_EVAL_JUDGE_MODEL": "x"})


def test_geval_is_added_only_with_a_judge_and_a_diagnosis(by_id, outcome_of):
    scenario = by_id["dev-oom-web-api"]
    result = _result(scenario, outcome_of(scenario.id, [investigation()], [oom_record()]))
    judge = OllamaModel(model="llama3.1", base_url="http://127.0.0.1:9")
    names = [type(m) for m in metrics_for(scenario, result, judge=judge)]
    assert GEval in names
    assert GEval not in [type(m) for m in metrics_for(scenario, result)]
    control = by_id["dev-control-quiet"]
    quiet = _result(control, outcome_of(control.id, [], []))
    assert GEval not in [type(m) for m in metrics_for(control, quiet, judge=judge)]
