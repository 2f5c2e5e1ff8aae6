"""The CLI: help lists every command; bad settings fail with the field named; unbuilt commands say so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "serve", "run", "eval", "sandbox", "pr"):
        assert command in result.output


@pytest.mark.parametrize("command", ["demo", "serve", "run", "eval", "sandbox", "pr"])
def test_each_command_has_help(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_invalid_settings_exit_2_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("mode: chaos\n")
    result = runner.invoke(app, ["demo", "--config", str(config)])
    assert result.exit_code == 2
    assert "'mode'" in result.output


@pytest.mark.slow  # starts Python processes
def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).with_name("paramedic")
    proc = subprocess.run([str(exe), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert "demo" in proc.stdout
