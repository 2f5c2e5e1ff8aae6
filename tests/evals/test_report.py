"""Report writing: report.json (validated against the committed schema), report.md, two PNG charts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema_rs
import pytest

from evals.aggregate import Distribution, aggregate, by_category, by_split
from evals.report import (
    SCHEMA_PATH,
    Report,
    RunInfo,
    ScenarioResult,
    load_report,
    report_schema,
    write_report,
)
from evals.scorers import score
from tests.evals.conftest import investigation, oom_record


@pytest.fixture
def report(by_id, outcome_of) -> Report:
    oom, control = by_id["dev-oom-web-api"], by_id["dev-control-quiet"]
    results = []
    for scenario, outcome in (
        (oom, outcome_of(oom.id, [investigation()], [oom_record()])),
        (control, outcome_of(control.id, [], [])),
    ):
        results.append(ScenarioResult.of(scenario, outcome, score(scenario, outcome), "the limit is too low"))
    scores = [r.score for r in results]
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    return Report(
        run=RunInfo(
            started_at=now,
            finished_at=now,
            provider="rules",
            agent="scripted",
            seed=0,
            jobs=1,
            time_budget_s=60,
            splits=["dev"],
            scenario_ids=[r.scenario_id for r in results],
        ),
        overall=aggregate(scores),
        by_category=by_category(scores),
        by_split=by_split(scores),
        scenarios=results,
    )


def test_the_committed_schema_is_the_one_reports_follow():
    assert json.loads(SCHEMA_PATH.read_text()) == report_schema(), (
        "evals/report.schema.json is stale: python -m evals.report --schema > evals/report.schema.json"
    )


def test_writing_produces_json_markdown_and_charts(report, tmp_path):
    files = write_report(report, tmp_path / "out")
    assert files.json.exists() and files.markdown.exists()
    assert [p.name for p in files.charts] == ["accuracy_per_category.png", "time_to_recover.png"]
    for chart in files.charts:
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = json.loads(files.json.read_text())
    jsonschema_rs.validate(json.loads(SCHEMA_PATH.read_text()), data)
    assert load_report(files.json) == report
    md = files.markdown.read_text()
    assert "## Per category" in md and "| oom |" in md and "| dev-control-quiet |" in md


def test_the_schema_rejects_a_broken_report(report, tmp_path):
    data = json.loads(write_report(report, tmp_path).json.read_text())
    del data["overall"]["tp"]
    assert not jsonschema_rs.is_valid(json.loads(SCHEMA_PATH.read_text()), data)


def test_aggregates_count_what_happened(report):
    assert (report.overall.tp, report.overall.tn, report.overall.fp) == (1, 1, 0)
    assert report.overall.category_accuracy == 1.0 and report.overall.fix_success_rate == 1.0
    assert set(report.by_category) == {"oom", "control"}
    assert report.by_category["control"].category_accuracy is None
    assert report.overall.time_to_recover_sim_s.p50 == 90.0


def test_distribution_uses_nearest_rank():
    d = Distribution.of([None, 5.0, 1.0, 3.0, 2.0, 4.0])
    assert (d.n, d.p50, d.p90, d.max, d.mean) == (5, 3.0, 5.0, 5.0, 3.0)
    assert Distribution.of([]).p50 is None


def test_without_matplotlib_the_charts_are_skipped_with_a_message(report, tmp_path, monkeypatch):
    import sys

    from evals.report import NO_CHARTS

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now raises ImportError
    files = write_report(report, tmp_path)
    assert files.json.exists() and files.markdown.exists() and files.charts == ()
    assert "evals extra" in NO_CHARTS and NO_CHARTS in files.markdown.read_text()


@pytest.mark.process  # a fresh interpreter is its subject
def test_the_eval_command_imports_neither_matplotlib_nor_deepeval():
    """`paramedic eval` must work after `make install` (no evals extra): nothing on its import path
    needs the extra's packages."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('matplotlib', 'deepeval'):\n"
        "            raise ImportError(f'blocked {name}')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import paramedic.cli.eval, evals.runner, evals.report\n"
        "import paramedic.eval_agent, paramedic.eval_sandbox\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
