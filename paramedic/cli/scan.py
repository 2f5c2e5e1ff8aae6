"""`paramedic scan`: the proactive scan, read-only, for people (a table) and for CI (JSON, SARIF).

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it; 2 bad input or an
unreachable cluster.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from paramedic.cli.common import ConfigOption, settings_or_exit

if TYPE_CHECKING:  # the scan (and the kubernetes client) load when the command runs, not for --help
    from tools.scan import ScanReport

SeverityName = Literal["info", "low", "medium", "high", "critical"]

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def render_table(console: Console, report: ScanReport) -> None:
    """The findings as a Rich table, worst first, with each suggested patch under its message."""
    if not report.findings:
        console.print(f"no findings in {report.workloads} workloads", markup=False)
        return
    table = Table(title=f"paramedic scan: {len(report.findings)} findings in {report.workloads} workloads")
    for column in ("severity", "check", "object", "finding"):
        table.add_column(column, overflow="fold")
    for f in report.findings:
        detail = f.message + (f"\n{f.patch.rstrip()}" if f.patch else "")
        table.add_row(f"[{_STYLE[f.severity.value]}]{f.severity.value}[/]", f.check, f.target, detail)
    console.print(table)


def scan_command(
    config: ConfigOption = None,
    namespace: Annotated[
        list[str] | None, typer.Option("--namespace", "-n", help="Namespace to scan (repeatable).")
    ] = None,
    output: Annotated[
        Literal["table", "json", "sarif"], typer.Option("--output", "-o", help="table, json or sarif.")
    ] = "table",
    fail_on: Annotated[
        SeverityName | None,
        typer.Option("--fail-on", help="Exit 1 when a finding is at or above this severity (for CI)."),
    ] = None,
) -> None:
    """Scan the cluster for risks (no limits, floating tags, broken references, ...); changes nothing."""
    from agent.cluster import kube_client
    from server.findings import scan
    from server.runstore import open_run_store
    from tools.scan import Severity

    settings = settings_or_exit(config)
    console = Console(highlight=False)
    try:
        kube = kube_client(settings.cluster)
    except Exception as exc:  # no kubeconfig, bad context: the kubernetes client raises many kinds
        typer.echo(f"paramedic scan: cannot reach the cluster: {exc}", err=True)
        raise typer.Exit(code=2) from None
    store = open_run_store(settings.resolved_storage_url()) if settings.memory.enabled else None
    try:
        report = scan(kube, settings, store, namespace or [])
    except Exception as exc:
        typer.echo(f"paramedic scan: {exc}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        kube.close()
        if store is not None:
            store.close()
    if output == "json":
        typer.echo(json.dumps(report.to_json(), indent=2))
    elif output == "sarif":
        typer.echo(json.dumps(report.to_sarif(), indent=2))
    else:
        render_table(console, report)
    if fail_on is not None and report.at_or_above(Severity(fail_on)):
        raise typer.Exit(code=1)


def register_scan(app: typer.Typer) -> None:
    """Add `paramedic scan`."""
    app.command(name="scan")(scan_command)
