"""`make test`'s system-package check: finds the programs, installs them as root, stops otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
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


# -- `make test`'s background install: --start, then --wait before pytest ---------------------------


def _root_with_fake_apt(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, *, apt_fails: bool
) -> tuple[list[list[str]], threading.Event]:
    """Root, an apt-get that puts Alertmanager and Chromium on PATH (or fails), the rest present;
    the background installer runs in a thread of this process instead of a new one. Its install
    step waits for the returned event, so a test sees the moment before the install ends."""
    _executable(bare_machine / "bin" / "apt-get")
    for name in ("prometheus", "promtool", "kubectl"):
        _executable(bare_machine / "bin" / name)
    for tool in system_packages.POSTGRES_TOOLS:
        _executable(bare_machine / "bin" / tool)
    spawned: list[list[str]] = []
    release = threading.Event()

    def apt(cmd: list[str], check: bool, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        if cmd[1] == "install":
            release.wait(10)
            time.sleep(0.05)  # long enough that `wait` really waits (it polls every 10 ms here)
        if apt_fails and cmd[1] == "install":
            # The real child's output is the log (its stdout); this thread's is the test's.
            with open(bare_machine / "status" / system_packages.LOG, "a") as log:
                log.write("E: Unable to locate package chromium\n")
            raise subprocess.CalledProcessError(100, cmd)
        if cmd[1] == "install":
            for name in ("prometheus-alertmanager", "chromium"):
                _executable(bare_machine / "bin" / name)
        return subprocess.CompletedProcess(cmd, 0)

    def popen(cmd: list[str], **kwargs: object) -> None:
        spawned.append(cmd)
        assert kwargs["start_new_session"] is True, "a Ctrl-C on make must not reach dpkg"
        assert cmd[-2:] == ["--install-into", cmd[-1]]
        threading.Thread(target=system_packages.install_into, args=(Path(cmd[-1]),)).start()

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(subprocess, "run", apt)
    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(system_packages, "WAIT_POLL_S", 0.01)
    return spawned, release


def test_start_as_a_user_stops_at_once_with_the_message_and_starts_nothing(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(subprocess, "run", _refuse)
    monkeypatch.setattr(subprocess, "Popen", _refuse)
    assert system_packages.start(bare_machine / "status") == 2
    assert "apt-get install -y -q --no-install-recommends chromium" in capsys.readouterr().err
    assert not (bare_machine / "status" / system_packages.PENDING).exists()


def test_start_as_root_installs_in_the_background_and_wait_holds_until_it_has_ended(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spawned, release = _root_with_fake_apt(bare_machine, monkeypatch, apt_fails=False)
    status = bare_machine / "status"
    assert system_packages.start(status) == 0
    assert len(spawned) == 1 and "in the background" in capsys.readouterr().out
    assert system_packages.find("chromium") is None, "start returned before the install ended"
    release.set()
    assert system_packages.wait(status) == 0
    assert "installed chromium prometheus-alertmanager" in capsys.readouterr().out
    assert system_packages.find("chromium") == str(bare_machine / "bin" / "chromium")
    assert not (status / system_packages.PENDING).exists()
    spawned.clear()
    assert system_packages.start(status) == 0 and spawned == [], "a second run starts nothing"
    assert system_packages.wait(status) == 0


def test_wait_after_a_failed_background_install_prints_apts_output_and_fails(
    bare_machine: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _root_with_fake_apt(bare_machine, monkeypatch, apt_fails=True)[1].set()
    status = bare_machine / "status"
    assert system_packages.start(status) == 0
    assert system_packages.wait(status) == 2
    assert (status / system_packages.STATUS).read_text() == "2\n"
    err = capsys.readouterr().err
    assert "E: Unable to locate package chromium" in err and "Debian package chromium)" in err


def test_the_command_line_checks_starts_and_waits(tmp_path: Path) -> None:
    script = Path(system_packages.__file__)
    status = tmp_path / "status"
    for mode in ("--start", "--wait"):
        done = subprocess.run(
            [sys.executable, str(script), mode, str(status)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr  # this machine has every program: nothing to do
    assert not (status / system_packages.PENDING).exists()
    bad = subprocess.run([sys.executable, str(script), "--bogus"], capture_output=True, text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_wait_does_not_hang_on_an_installer_that_died_without_a_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(system_packages, "WAIT_POLL_S", 0.01)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / system_packages.PENDING).write_text(f"chromium\n{dead.pid}\n")
    (tmp_path / system_packages.LOG).write_text("Killed\n")
    assert system_packages.wait(tmp_path, timeout_s=60) == 0  # this machine has them all (see above)
    err = capsys.readouterr().err
    assert "ended without a status" in err and "Killed" in err
