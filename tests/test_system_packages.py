"""`make test`'s system-package check: finds the programs, installs them as root, stops otherwise."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests import system_packages

NAMES = [program.name for program in system_packages.PROGRAMS]


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def bare_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH with nothing on it, no Debian PostgreSQL directory and no explicit Chromium."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("PARAMEDIC_CHROMIUM", raising=False)
    monkeypatch.setattr(system_packages, "POSTGRES_DIRS", str(tmp_path / "usr-lib-postgresql" / "*" / "bin"))
    return tmp_path


def test_this_machine_has_every_program_the_suite_runs() -> None:
    # `make test` ran the check before the suite: every program is where the fixtures will look.
    missing = system_packages.missing()
    assert missing == [], system_packages.missing_message(missing)


def test_a_bare_machine_misses_all_of_them(bare_machine: Path) -> None:
    assert [p.name for p in system_packages.missing()] == NAMES
    for name in NAMES:
        assert system_packages.find(name) is None


def test_programs_are_found_on_path_and_postgres_in_debians_newest_directory(bare_machine: Path) -> None:
    for name in ("prometheus", "promtool", "prometheus-alertmanager", "chromium-browser", "kubectl"):
        _executable(bare_machine / "bin" / name)
    for version in ("15", "16"):
        for tool in system_packages.POSTGRES_TOOLS:
            _executable(bare_machine / "usr-lib-postgresql" / version / "bin" / tool)
    _executable(bare_machine / "usr-lib-postgresql" / "17" / "bin" / "initdb")  # incomplete: not chosen
    assert system_packages.find("chromium") == str(bare_machine / "bin" / "chromium-browser")
    assert system_packages.find("postgres") == str(bare_machine / "usr-lib-postgresql" / "16" / "bin")
    assert system_packages.missing() == []


def test_an_explicit_chromium_wins(bare_machine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARAMEDIC_CHROMIUM", "/opt/chrome/chrome")
    assert system_packages.find("chromium") == "/opt/chrome/chrome"


def test_as_a_user_it_stops_with_one_message_naming_packages_and_command(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(subprocess, "run", _refuse)
    assert system_packages.main() == 2
    err = capsys.readouterr().err
    for package in ("prometheus", "prometheus-alertmanager", "chromium", "kubectl", "postgresql"):
        assert f"Debian package {package})" in err
    command = "apt-get install -y -q --no-install-recommends chromium kubectl postgresql prometheus"
    assert f"{command} prometheus-alertmanager'" in err


def test_as_root_it_installs_the_missing_packages_once_without_questions(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _executable(bare_machine / "bin" / "apt-get")
    for name in ("prometheus", "promtool", "kubectl"):  # Debian's prometheus ships both
        _executable(bare_machine / "bin" / name)
    for tool in system_packages.POSTGRES_TOOLS:
        _executable(bare_machine / "bin" / tool)
    calls: list[tuple[list[str], str | None]] = []

    def apt(cmd: list[str], check: bool, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, env.get("DEBIAN_FRONTEND")))
        if cmd[1] == "install":  # what the packages would put on PATH
            for name in ("prometheus-alertmanager", "chromium"):
                _executable(bare_machine / "bin" / name)
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", apt)
    assert system_packages.main() == 0
    assert calls == [
        (["apt-get", "update", "-q"], "noninteractive"),
        ([*system_packages.APT_INSTALL, "chromium", "prometheus-alertmanager"], "noninteractive"),
    ]
    assert "installing chromium prometheus-alertmanager" in capsys.readouterr().out
    calls.clear()
    assert system_packages.main() == 0 and calls == [], "a second run finds everything and does nothing"


def test_as_root_an_install_that_leaves_a_program_missing_fails(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _executable(bare_machine / "bin" / "apt-get")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **_: subprocess.CompletedProcess(cmd, 0))
    assert system_packages.main() == 2
    assert "still not found" in capsys.readouterr().err


def test_as_root_a_failing_apt_names_the_packages(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _executable(bare_machine / "bin" / "apt-get")

    def failing(cmd: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        raise subprocess.CalledProcessError(100, cmd)

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", failing)
    assert system_packages.main() == 2
    err = capsys.readouterr().err
    assert "apt-get failed (100)" in err and "Debian package kubectl)" in err


def test_a_fixture_missing_its_program_fails_naming_the_package(bare_machine: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match=r"Debian package prometheus\)"):
        system_packages.require("prometheus")


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a non-root check must not run apt-get")
