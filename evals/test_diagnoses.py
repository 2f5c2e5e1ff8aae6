"""deepeval test file: `deepeval test run evals/test_diagnoses.py`.

Grades one eval run's results (`PARAMEDIC_EVAL_REPORT=path/to/report.json`, default: the newest
`evals/results/*/report.json`) with the deterministic metrics and, when `PARAMEDIC_EVAL_JUDGE*`
configures a judge, GEval on the root-cause explanation. With no results yet every test is
skipped and says how to produce them. Telemetry is off.
"""

from __future__ import annotations

import os

os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")

from pathlib import Path

import pytest

# The defining module: `deepeval` binds `assert_test` inside a function, out of mypy's sight.
from deepeval.evaluate import assert_test

from evals.dataset import Scenario, load_dataset
from evals.metrics_deepeval import judge_from_env, metrics_for, to_test_case
from evals.report import Report, ScenarioResult, load_report
from evals.runner import RESULTS_DIR
from evals.scorers import Pricing


def _report_path() -> Path | None:
    explicit = os.environ.get("PARAMEDIC_EVAL_REPORT")
    if explicit:
        return Path(explicit)
    found = sorted(RESULTS_DIR.glob("*/report.json"))
    return found[-1] if found else None


def _cases() -> tuple[Report | None, list[tuple[Scenario, ScenarioResult]]]:
    path = _report_path()
    if path is None:
        return None, []
    report = load_report(path)
    dataset = {s.id: s for s in load_dataset()}
    missing = [r.scenario_id for r in report.scenarios if r.scenario_id not in dataset]
    if missing:
        raise RuntimeError(f"{path}: scenarios no longer in the dataset: {missing}")
    return report, [(dataset[r.scenario_id], r) for r in report.scenarios]


REPORT, CASES = _cases()
NO_RESULTS = (
    "no eval results: run scenarios first (evals.runner.run_scenarios or `paramedic eval`), "
    "or point PARAMEDIC_EVAL_REPORT at a report.json"
)


@pytest.mark.skipif(not CASES, reason=NO_RESULTS)
@pytest.mark.parametrize(("scenario", "result"), CASES, ids=[s.id for s, _ in CASES])
def test_diagnosis(scenario: Scenario, result: ScenarioResult) -> None:
    """Every applicable metric passes for this scenario."""
    assert REPORT is not None
    pricing = Pricing(REPORT.run.price_per_million_input_tokens, REPORT.run.price_per_million_output_tokens)
    metrics = metrics_for(scenario, result, judge=judge_from_env(), pricing=pricing)
    assert_test(to_test_case(scenario, result), metrics, run_async=False)


def test_results_exist() -> None:
    """Says plainly when there is nothing to grade."""
    if not CASES:
        pytest.skip(NO_RESULTS)
