"""The eval report: `report.json` (schema: `evals/report.schema.json`, generated from `Report`),
`report.md` (tables, Wilson 95 % intervals, the misses and their reasons) and PNG charts
(accuracy per category, time-to-recover distribution). The charts need matplotlib (the `evals`
extra); without it they are skipped with a message saying how to get them, and the rest is
written as usual.

`python -m evals.report --schema` prints the JSON schema; the committed file must match it
(a test checks), so the schema documented in docs/evals.md is the one reports follow.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from evals.aggregate import Aggregate
from evals.dataset import Scenario
from evals.intervals import Interval
from evals.misses import misses
from evals.outcome import ScenarioOutcome
from evals.scorers import ScenarioScore

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).parent / "report.schema.json"
ACCURACY_CHART = "accuracy_per_category.png"
RECOVERY_CHART = "time_to_recover.png"
NO_CHARTS = (
    "charts skipped: matplotlib is not installed (it comes with the evals extra: "
    "pip install -e '.[evals]' -c constraints.txt)"
)


class RunInfo(BaseModel):
    """How the run was made."""

    model_config = ConfigDict(extra="forbid")

    started_at: datetime
    finished_at: datetime
    provider: str
    model: str | None = None
    agent: str = Field(description="Name of the agent callable that ran the scenarios.")
    seed: int
    jobs: int
    time_budget_s: float
    price_per_million_input_tokens: float = 0.0
    price_per_million_output_tokens: float = 0.0
    splits: list[str]
    scenario_ids: list[str]
    results_dir: str = Field(default="", description="Where report.json, report.md and the charts are.")


class ScenarioResult(BaseModel):
    """One scenario: what happened and how it scored."""

    model_config = ConfigDict(extra="forbid")

    scenario_id: str
    split: str
    title: str
    tags: list[str]
    categories: list[str]
    expected_explanation: str = Field(default="", description="Ground-truth root cause, for judges.")
    outcome: ScenarioOutcome
    score: ScenarioScore

    @classmethod
    def of(
        cls,
        scenario: Scenario,
        outcome: ScenarioOutcome,
        score: ScenarioScore,
        expected_explanation: str = "",
    ) -> ScenarioResult:
        """The row of `scenario` (its id, split, title, tags and categories) with its outcome and score."""
        return cls(
            scenario_id=scenario.id,
            split=scenario.split,
            title=scenario.title,
            tags=[t.value for t in scenario.tags],
            categories=scenario.categories,
            expected_explanation=expected_explanation,
            outcome=outcome,
            score=score,
        )


class Report(BaseModel):
    """Everything one eval run produced."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    run: RunInfo
    overall: Aggregate
    by_category: dict[str, Aggregate]
    by_split: dict[str, Aggregate]
    scenarios: list[ScenarioResult]


@dataclass(frozen=True)
class ReportFiles:
    """Where a report was written; `charts_skipped` says why there are no charts, if there are none."""

    json: Path
    markdown: Path
    charts: tuple[Path, ...]
    charts_skipped: str | None = None


def report_schema() -> dict[str, Any]:
    """The JSON schema of report.json."""
    schema = Report.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://paramedic.dev/schemas/eval-report-v{SCHEMA_VERSION}.json"
    return schema


def write_report(report: Report, out_dir: Path) -> ReportFiles:
    """Write report.json, report.md and (with matplotlib) the charts into `out_dir` (created)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "report.json"
    json_path.write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
    plt = _pyplot()
    skipped = None if plt is not None else NO_CHARTS
    md_path = out_dir / "report.md"
    md_path.write_text(render_markdown(report, charts_skipped=skipped), encoding="utf-8")
    if plt is None:
        return ReportFiles(json_path, md_path, (), skipped)
    charts = (
        _accuracy_chart(plt, report, out_dir / ACCURACY_CHART),
        _recovery_chart(plt, report, out_dir / RECOVERY_CHART),
    )
    return ReportFiles(json_path, md_path, charts)


def load_report(path: Path) -> Report:
    """Read a report.json back."""
    return Report.model_validate_json(path.read_text(encoding="utf-8"))


# -- markdown ---------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"


def _flag(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def _aggregate_row(name: str, a: Aggregate) -> str:
    cells = [
        name,
        str(a.scenarios),
        f"{a.tp}/{a.fp}/{a.fn}/{a.tn}",
        _pct(a.category_accuracy),
        _pct(a.resource_accuracy),
        _pct(a.fix_success_rate),
        str(a.unsafe_actions),
        _pct(a.escalation_accuracy),
        _secs(a.time_to_detect_sim_s.p50),
        _secs(a.time_to_recover_sim_s.p50),
        str(a.model_calls),
        f"{a.input_tokens}/{a.output_tokens}",
        f"{a.cost_usd:.4f}",
    ]
    return "| " + " | ".join(cells) + " |"


_AGG_HEADER = (
    "| | scenarios | TP/FP/FN/TN | category | resource | fix success | unsafe | escalation "
    "| TTD p50 (sim s) | TTR p50 (sim s) | model calls | tokens in/out | cost (USD) |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _interval(value: Interval | None) -> str:
    if value is None or value.rate is None or value.low is None or value.high is None:
        return "n/a"
    bounds = f"[{value.low * 100:.0f}-{value.high * 100:.0f}]"
    return f"{value.rate * 100:.0f}% {bounds} ({value.successes}/{value.trials})"


_INTERVAL_HEADER = (
    "| | passed | detection precision | detection recall | category | resource | field | fix success "
    "| escalation | controls with a false positive | executed / no-op actions |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _interval_row(name: str, a: Aggregate) -> str:
    i = a.intervals
    cells = [name]
    if i is None:
        cells += ["n/a"] * 9
    else:
        cells += [
            _interval(i.passed),
            _interval(i.detection_precision),
            _interval(i.detection_recall),
            _interval(i.category_accuracy),
            _interval(i.resource_accuracy),
            _interval(i.field_accuracy),
            _interval(i.fix_success_rate),
            _interval(i.escalation_accuracy),
            _interval(i.control_false_positive_rate),
        ]
    cells.append(f"{a.executed_actions} / {a.noop_actions}")
    return "| " + " | ".join(cells) + " |"


def render_intervals(report: Report) -> list[str]:
    """The rates with their Wilson 95 % intervals, overall, per split and per category."""
    return [
        "## Rates with Wilson 95 % intervals",
        "",
        "`rate [low-high] (successes/trials)`: the true rate lies in the interval with 95 % confidence.",
        "",
        _INTERVAL_HEADER,
        _interval_row("all", report.overall),
        *(_interval_row(f"split {name}", agg) for name, agg in report.by_split.items()),
        *(_interval_row(name, agg) for name, agg in report.by_category.items()),
        "",
    ]


def render_misses(report: Report) -> list[str]:
    """Every scenario that did not pass, with its reasons."""
    found = misses(report.scenarios)
    lines = ["## Misses", ""]
    if not found:
        return [*lines, "None: every scenario passed.", ""]
    lines += ["| scenario | categories | why |", "|---|---|---|"]
    lines += [
        f"| {m.scenario_id} | {', '.join(m.categories)} | {'; '.join(m.reasons).replace('|', '/')} |"
        for m in found
    ]
    return [*lines, ""]


def render_markdown(report: Report, charts_skipped: str | None = None) -> str:
    """The human-readable report."""
    run = report.run
    lines = [
        f"# Eval report ({run.started_at:%Y-%m-%d %H:%M:%S} UTC)",
        "",
        f"Provider `{run.provider}`{f', model `{run.model}`' if run.model else ''}, agent `{run.agent}`, "
        f"seed {run.seed}, {len(run.scenario_ids)} scenarios ({', '.join(run.splits)}), "
        f"jobs {run.jobs}, time budget {run.time_budget_s:.0f}s per scenario.",
        "",
        "## Overall",
        "",
        _AGG_HEADER,
        _aggregate_row("all", report.overall),
        *(_aggregate_row(f"split {name}", agg) for name, agg in report.by_split.items()),
        "",
        "## Per category",
        "",
        _AGG_HEADER,
        *(_aggregate_row(name, agg) for name, agg in report.by_category.items()),
        "",
        *render_intervals(report),
        *render_misses(report),
        "## Scenarios",
        "",
        "| scenario | split | categories | detected | category | resource | fixed | unsafe | escalation "
        "| TTR (sim s) | passed | agent error |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report.scenarios:
        s = r.score
        detected = f"{s.tp}/{s.tp + s.fn}" + (f" +{s.fp} FP" if s.fp else "")
        lines.append(
            "| "
            + " | ".join(
                [
                    r.scenario_id,
                    r.split,
                    ", ".join(r.categories),
                    detected,
                    _flag(s.category_correct),
                    _flag(s.resource_correct),
                    _flag(s.fix_success),
                    str(s.unsafe_actions),
                    _flag(s.escalation_correct),
                    _secs(s.time_to_recover_sim_s),
                    "yes" if s.passed else "no",
                    (s.agent_error or "").replace("|", "/")[:80],
                ]
            )
            + " |"
        )
    lines += _llm_section(report.overall)
    charts = charts_skipped or f"Charts: `{ACCURACY_CHART}`, `{RECOVERY_CHART}`."
    lines += ["", charts, ""]
    return "\n".join(lines)


def _llm_section(a: Aggregate) -> list[str]:
    """Per incident a model was asked about: prompt size and tool calls; the hybrid's choices."""
    prompt, calls, arb = a.prompt_tokens_per_incident, a.tool_calls_per_incident, a.arbitration
    if not prompt.n and not arb.decisions:
        return []

    def num(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0f}"

    lines = [
        "",
        "## LLM",
        "",
        f"{prompt.n} incident(s) asked a model. Largest prompt per incident (tokens): median "
        f"{num(prompt.p50)} (goal <= 6000), p90 {num(prompt.p90)}, max {num(prompt.max)}. Tool calls per "
        f"incident: median {num(calls.p50)}, mean {'n/a' if calls.mean is None else f'{calls.mean:.1f}'}, "
        f"max {num(calls.max)}.",
    ]
    if arb.decisions:
        lines += [
            "",
            "| hybrid arbitrations | took rules | took model | rules right | model right | choice right |",
            "|---|---|---|---|---|---|",
            f"| {arb.decisions} | {arb.chose_rules} | {arb.chose_llm} | {arb.rules_right} | {arb.llm_right} "
            f"| {arb.chosen_right} |",
        ]
    return lines


# -- determinism ------------------------------------------------------------------------------

# Scores that a re-run with the same seed must reproduce. Times are left out on purpose: a
# background sandbox's simulated clock follows the wall clock, so times jitter with machine load
# even when every decision, action and outcome is the same.
_STABLE_AGGREGATE = (
    "scenarios", "faults", "passed", "tp", "fp", "fn", "tn", "detection_precision", "detection_recall",
    "category_accuracy", "resource_accuracy", "field_accuracy", "fix_success_rate", "unsafe_actions",
    "unneeded_actions", "escalation_accuracy", "model_calls", "input_tokens", "output_tokens", "cost_usd",
)  # fmt: skip
_STABLE_SCENARIO = (
    "tp", "fp", "fn", "tn", "category_correct", "resource_correct", "field_correct", "fix_success",
    "unsafe_actions", "unneeded_actions", "escalated", "escalation_correct", "model_calls",
    "input_tokens", "output_tokens", "passed", "executed_actions", "noop_actions", "false_diagnoses",
)  # fmt: skip


def stable_numbers(report: Report) -> dict[str, Any]:
    """The numbers of a report that must not change when it is re-run with the same seed."""
    return {
        "overall": {k: getattr(report.overall, k) for k in _STABLE_AGGREGATE},
        "by_category": {
            name: {k: getattr(agg, k) for k in _STABLE_AGGREGATE} for name, agg in report.by_category.items()
        },
        "scenarios": {
            r.scenario_id: {k: getattr(r.score, k) for k in _STABLE_SCENARIO} for r in report.scenarios
        },
    }


# -- charts -----------------------------------------------------------------------------------


def _pyplot() -> Any | None:
    """matplotlib's pyplot on the file-only Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")  # files only, never a display
    import matplotlib.pyplot as plt

    return plt


def _accuracy_chart(plt: Any, report: Report, path: Path) -> Path:
    names = [n for n in report.by_category if n != "control"]
    series = {
        "category": [report.by_category[n].category_accuracy for n in names],
        "resource": [report.by_category[n].resource_accuracy for n in names],
        "fix success": [report.by_category[n].fix_success_rate for n in names],
    }
    fig, ax = plt.subplots(figsize=(max(6.0, 0.8 * len(names) + 2), 4.5))
    width = 0.27
    for offset, (label, values) in enumerate(series.items()):
        xs = [i + (offset - 1) * width for i in range(len(names))]
        ax.bar(xs, [v or 0.0 for v in values], width=width, label=label)
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("rate")
    ax.set_title("Accuracy per root-cause category")
    ax.legend(loc="upper right", fontsize="small")
    if not names:
        ax.text(0.5, 0.5, "no fault scenarios", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _recovery_chart(plt: Any, report: Report, path: Path) -> Path:
    values = [
        r.score.time_to_recover_sim_s for r in report.scenarios if r.score.time_to_recover_sim_s is not None
    ]
    fig, ax = plt.subplots(figsize=(6.5, 4.0))
    if values:
        ax.hist(values, bins=min(20, max(3, len(values))))
    else:
        ax.text(0.5, 0.5, "no scenario recovered", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("time to recover (simulated seconds)")
    ax.set_ylabel("scenarios")
    ax.set_title(f"Time to recover (n={len(values)})")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    """`python -m evals.report --schema` prints the report's JSON schema."""
    args = sys.argv[1:] if argv is None else argv
    if args != ["--schema"]:
        print("usage: python -m evals.report --schema", file=sys.stderr)
        return 2
    print(json.dumps(report_schema(), indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
