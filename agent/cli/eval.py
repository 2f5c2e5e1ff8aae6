"""`paramedic eval`: replay fault scenarios in fresh sandboxes and score diagnoses and fixes."""

from __future__ import annotations

import typer

from agent.cli.common import ConfigOption, not_built, settings_or_exit


def register_eval(app: typer.Typer) -> None:
    """Add the `eval` command to `app`."""

    @app.command("eval")
    def eval_(config: ConfigOption = None) -> None:
        """Replay fault scenarios in fresh sandboxes and score diagnoses and fixes."""
        settings_or_exit(config)
        not_built("eval", "the eval harness, issue #7")
