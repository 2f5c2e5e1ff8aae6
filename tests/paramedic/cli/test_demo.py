"""`paramedic demo` end to end on the sandbox: the real watcher and graph heal injected faults,
the table says so, and the exit code is 0 only when every fault was diagnosed and healed."""

from __future__ import annotations

import pytest

from agent.config import Settings
from paramedic.cli.demo import FAULTS, demo_command

pytestmark = pytest.mark.slow


def test_the_demo_heals_two_faults_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    faults = [("bad_image", "shop/deploy/web-api"), ("missing_env", "shop/deploy/worker")]
    assert demo_command(Settings(), keep_running=False, faults=faults) == 0
    out = capsys.readouterr().out
    assert "2/2 faults diagnosed and healed" in out
    for fault, _ in faults:
        row = next(line for line in out.splitlines() if line.startswith(f"│ {fault} "))
        assert f"│ {fault} " in row and "yes" in row
    assert "revert_commit" in out and "gitops_pr" in out  # each fix went through a pull request
    assert "merged into main" in out


def test_a_fault_the_rules_cannot_heal_makes_the_demo_fail(capsys: pytest.CaptureFixture[str]) -> None:
    # A dependency scaled to zero: the dependant crashes, but the fix (the dependency) is out of its scope.
    faults = [("dependency_down", "shop/deploy/web-api")]
    assert demo_command(Settings(), keep_running=False, faults=faults, run_timeout=15) == 1
    out = capsys.readouterr().out
    assert "0/1 faults diagnosed and healed" in out
    row = next(line for line in out.splitlines() if line.startswith("│ dependency_down "))
    assert "no (" in row


def test_the_demo_sequence_has_at_least_five_different_faults() -> None:
    assert len({fault for fault, _ in FAULTS}) >= 5


def test_keep_running_serves_the_api_over_the_demos_runs_until_interrupted(tmp_path) -> None:
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "from paramedic.cli.demo import demo_command; from agent.config import Settings; "
        "raise SystemExit(demo_command(Settings(), keep_running=True,"
        " faults=[('bad_image', 'shop/deploy/web-api')]))"
    )
    env = {**os.environ, "PARAMEDIC_SERVER__PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 90
        runs: list[dict] = []
        while time.monotonic() < deadline and not runs:
            try:
                runs = httpx.get(f"http://127.0.0.1:{port}/api/v1/runs", timeout=2).json()["items"]
            except httpx.HTTPError:
                time.sleep(0.5)
        assert [r["status"] for r in runs] == ["healed"]
        assert httpx.get(f"http://127.0.0.1:{port}/ui/runs", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")[-2000:]
