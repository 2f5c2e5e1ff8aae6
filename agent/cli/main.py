"""`paramedic`: the command line and composition root.

Heavy imports live inside the commands so `paramedic --help` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.cli.sandbox import sandbox_app
from agent.config import Settings, SettingsError, load_settings
from agent.log import configure_logging

app = typer.Typer(
    name="paramedic",
    help="Paramedic: a self-healing AIOps agent for Kubernetes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML settings file (env PARAMEDIC_* overrides it).", exists=False),
]


def settings_or_exit(config: Path | None, **overrides: object) -> Settings:
    """Load settings or print every invalid field and exit 2."""
    try:
        settings = load_settings(config, **overrides)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=2) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings


def not_built(command: str, issue: str) -> None:
    """Say plainly that a command is not available yet, and fail."""
    typer.echo(f"paramedic {command}: not built yet ({issue}).", err=True)
    raise typer.Exit(code=3)


@app.command()
def demo(
    config: ConfigOption = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running", help="Leave the sandbox (and server) up afterwards.")
    ] = False,
) -> None:
    """Start the sandbox, inject faults one after another and watch Paramedic heal them."""
    settings_or_exit(config)
    not_built("demo", "the healing graph, issue #5")


@app.command()
def serve(
    config: ConfigOption = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", help="Start the embedded sandbox cluster.")] = False,
) -> None:
    """Run the watcher and the HTTP API (SSE, chat, dashboard)."""
    settings_or_exit(config)
    not_built("serve", "the service, issue #6")


@app.command()
def run(
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace of the workload.")],
    workload: Annotated[str, typer.Option("--workload", "-w", help="kind/name, e.g. deploy/checkout.")],
    config: ConfigOption = None,
) -> None:
    """Run one investigation against the cluster the kubeconfig points at (report mode by default)."""
    settings_or_exit(config)
    not_built("run", "the healing graph, issue #5")


@app.command("eval")
def eval_(
    config: ConfigOption = None,
) -> None:
    """Replay fault scenarios in fresh sandboxes and score diagnoses and fixes."""
    settings_or_exit(config)
    not_built("eval", "the eval harness, issue #7")


app.add_typer(sandbox_app, name="sandbox")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
