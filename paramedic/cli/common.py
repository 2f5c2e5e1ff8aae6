"""What every command shares: the `--config` option, loading settings, and a plain "not built" exit."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agent.config import Settings, SettingsError, load_settings
from agent.log import configure_logging

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
