"""`paramedic eval`: replay fault scenarios in fresh sandboxes and score diagnoses and fixes.

Each scenario runs in its own sandbox (`paramedic.eval_sandbox.SandboxTestbed`) with the real
watcher and healing graph (`paramedic.eval_agent.graph_agent`: autonomous mode, local
auto-merge) through `evals.runner.run_scenarios`; the report (report.json, report.md, PNG
charts) goes under `evals/results/<UTC timestamp>/` or `--out`. `--scenarios DIR` runs every
scenario of one flat folder (e.g. `evals/scenarios/pending`, or your own) instead of a split.
The charts need the `evals` extra (matplotlib); without it they are skipped with a message.

Exit codes: 0 the run completed with no unsafe action; 1 at least one unsafe action (the one
number that must stay 0); 2 bad input (settings, unknown split or scenario id, bad option);
3 the agent is not available (NotImplementedError from the agent seam).
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from paramedic.cli.common import ConfigOption, settings_or_exit

EXIT_OK = 0
EXIT_UNSAFE = 1
EXIT_BAD_INPUT = 2
EXIT_UNAVAILABLE = 3


class Provider(StrEnum):
    """Which reasoner the agent runs with (settings.llm.provider)."""

    RULES = "rules"
    OPENAI = "openai"
    OLLAMA = "ollama"
    HYBRID = "hybrid"


class Split(StrEnum):
    """Which part of the dataset to run."""

    DEV = "dev"
    TEST = "test"
    ALL = "all"


def eval_command(
    *,
    config: Path | None,
    provider: Provider,
    split: Split,
    scenario_ids: list[str],
    out: Path | None,
    scenarios_dir: Path | None = None,
    jobs: int,
    seed: int,
    time_budget: float,
    progress: bool = True,
) -> int:
    """Run the selected scenarios and write the report; the exit code (see the module docstring)."""
    # deepeval is imported by evals (metrics); its telemetry stays off wherever evals run.
    os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")
    # Imported here, not at the top: `paramedic --help` stays instant.
    from evals.dataset import SPLITS, DatasetError, load_dataset, load_folder, select
    from evals.report import ACCURACY_CHART, NO_CHARTS
    from evals.runner import RESULTS_DIR, run_scenarios
    from paramedic import eval_agent
    from paramedic.eval_sandbox import SandboxTestbed

    settings = settings_or_exit(config)
    if jobs < 1 or time_budget <= 0:
        typer.echo("paramedic eval: --jobs must be >= 1 and --time-budget > 0", err=True)
        return EXIT_BAD_INPUT
    try:
        splits = list(SPLITS) if split == Split.ALL else [split.value]
        testbed = SandboxTestbed()
        pool = (
            load_folder(scenarios_dir, faults=testbed.faults)
            if scenarios_dir is not None
            else load_dataset(splits=splits, faults=testbed.faults)
        )
        scenarios = select(pool, ids=scenario_ids)
    except (DatasetError, ValueError, KeyError) as exc:
        typer.echo(f"paramedic eval: {exc}", err=True)
        return EXIT_BAD_INPUT
    if not scenarios:
        typer.echo("paramedic eval: no scenario selected", err=True)
        return EXIT_BAD_INPUT
    try:
        report = run_scenarios(
            scenarios,
            provider=provider.value,
            jobs=jobs,
            out_dir=out or RESULTS_DIR,
            time_budget=time_budget,
            seed=seed,
            agent=eval_agent.graph_agent,
            testbed=testbed,
            settings=settings,
            progress=progress,
        )
    except NotImplementedError as exc:
        typer.echo(f"paramedic eval: {exc}", err=True)
        return EXIT_UNAVAILABLE
    o = report.overall
    typer.echo(
        f"{o.scenarios} scenarios ({o.passed} passed): category {_pct(o.category_accuracy)}, "
        f"resource {_pct(o.resource_accuracy)}, fix success {_pct(o.fix_success_rate)}, "
        f"detection P/R {_pct(o.detection_precision)}/{_pct(o.detection_recall)}, "
        f"unsafe actions {o.unsafe_actions}, model calls {o.model_calls}, "
        f"tokens {o.input_tokens}/{o.output_tokens}, cost ${o.cost_usd:.4f}"
    )
    results = Path(report.run.results_dir)
    charts = (results / ACCURACY_CHART).exists()
    typer.echo(f"report: {results}/report.json (report.md{', charts' if charts else ''})")
    if not charts:
        typer.echo(f"paramedic eval: {NO_CHARTS}", err=True)
    if o.unsafe_actions > 0:
        typer.echo(f"paramedic eval: {o.unsafe_actions} unsafe action(s)", err=True)
        return EXIT_UNSAFE
    return EXIT_OK


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def register_eval(app: typer.Typer) -> None:
    """Add the `eval` command to `app`."""

    @app.command("eval")
    def eval_(
        config: ConfigOption = None,
        provider: Annotated[Provider, typer.Option(help="Reasoner: rules, openai, ollama, hybrid.")] = (
            Provider.RULES
        ),
        split: Annotated[Split, typer.Option(help="Dataset split to run.")] = Split.TEST,
        scenarios: Annotated[
            Path | None,
            typer.Option(
                "--scenarios",
                help="Run the scenarios of this flat folder (no dev/test sub-folders) instead of a split.",
                exists=True,
                file_okay=False,
            ),
        ] = None,
        scenario: Annotated[
            list[str] | None, typer.Option("--scenario", help="Only these scenario ids (repeatable).")
        ] = None,
        out: Annotated[
            Path | None, typer.Option(help="Results root; the report goes to OUT/<UTC timestamp>/.")
        ] = None,
        jobs: Annotated[int, typer.Option(help="Scenarios run at once, each in its own sandbox.")] = 1,
        seed: Annotated[int, typer.Option(help="Run seed; scenario sandbox seeds derive from it.")] = 0,
        time_budget: Annotated[
            float, typer.Option("--time-budget", help="Wall seconds per scenario for the agent.")
        ] = 300.0,
    ) -> None:
        """Replay fault scenarios in fresh sandboxes and score diagnoses and fixes.

        Exit 0: no unsafe action; 1: unsafe actions; 2: bad input; 3: agent unavailable.
        """
        code = eval_command(
            config=config,
            provider=provider,
            split=split,
            scenario_ids=list(scenario or []),
            out=out,
            scenarios_dir=scenarios,
            jobs=jobs,
            seed=seed,
            time_budget=time_budget,
        )
        raise typer.Exit(code=code)
