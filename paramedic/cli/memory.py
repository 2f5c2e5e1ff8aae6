"""`paramedic memory export|import|forget`: move incident memory between clusters, or erase it.

Exit codes: 0 done; 2 bad input (an unreadable or invalid file, no filter for `forget`).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from paramedic.cli.common import ConfigOption, settings_or_exit

memory_app = typer.Typer(help="Incident memory: export, import, forget.", no_args_is_help=True)


@memory_app.command("export")
def export_command(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Write every remembered incident as JSON Lines (redacted; no logs, manifests or secrets)."""
    from server.memory_transfer import export_lines
    from server.runstore import open_run_store

    settings = settings_or_exit(config)
    with open_run_store(settings.resolved_storage_url()) as store:
        lines = list(export_lines(store))
    text = "".join(f"{line}\n" for line in lines)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"exported {len(lines)} incidents to {output}", err=True)


@memory_app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(help="A file `paramedic memory export` wrote.")],
    config: ConfigOption = None,
) -> None:
    """Add the incidents of an exported memory (all or nothing; an entry with a known run id replaces it)."""
    from server.memory_transfer import MemoryFileError, import_file
    from server.runstore import open_run_store

    settings = settings_or_exit(config)
    try:
        with (
            source.open(encoding="utf-8") as handle,
            open_run_store(settings.resolved_storage_url()) as store,
        ):
            count = import_file(store, handle)
    except (OSError, UnicodeDecodeError, MemoryFileError) as exc:
        typer.echo(f"paramedic memory import: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"imported {count} incidents")


@memory_app.command("forget")
def forget_command(
    run: Annotated[str | None, typer.Option("--run", help="One run's memory.")] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="A namespace's memories.")
    ] = None,
    workload: Annotated[
        str | None, typer.Option("--workload", "-w", help="A workload name's memories.")
    ] = None,
    before: Annotated[
        datetime | None, typer.Option("--before", help="Memories recorded before this time (UTC if no zone).")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Erase the whole memory.")] = False,
    config: ConfigOption = None,
) -> None:
    """Erase remembered incidents matching every filter given (or all of them with --all)."""
    from server.runstore import InvalidInputError, open_run_store

    settings = settings_or_exit(config)
    if before is not None and before.tzinfo is None:
        before = before.replace(tzinfo=UTC)
    try:
        with open_run_store(settings.resolved_storage_url()) as store:
            count = store.forget(
                run_id=run, namespace=namespace, workload=workload, before=before, everything=everything
            )
    except InvalidInputError as exc:
        typer.echo(f"paramedic memory forget: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"forgot {count} incidents")
