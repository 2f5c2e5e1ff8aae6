"""`paramedic sandbox`: `up` in a real subprocess used with the real kubectl and stopped with SIGINT;
`fault inject|clear|list` through the control endpoint of a running sandbox."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from paramedic.cli.sandbox import sandbox_app
from sandbox.cluster import Sandbox
from sandbox.faults import FAULT_TYPES
from sandbox.faults.control import ControlServer
from tests.sandbox.kubectl import GO_ENV

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Sandbox, Path]]:
    """A stepped sandbox (no API server needed here) with its control endpoint and a state file."""
    with Sandbox(background=False, serve=False) as sb:
        control = ControlServer(sb, lambda: {"repo": str(sb.repo_path)}).start()
        state = tmp_path / "state.json"
        state.write_text(json.dumps({"pid": os.getpid(), "control_url": control.url}))
        try:
            yield sb, state
        finally:
            control.stop()


def test_fault_inject_list_and_clear_through_the_cli(running: tuple[Sandbox, Path]) -> None:
    sb, state = running
    original = (sb.repo_path / "apps/web-api/deployment.yaml").read_text()
    result = runner.invoke(
        sandbox_app, ["fault", "inject", "oom", "--target", "shop/deploy/web-api", "--state", str(state)]
    )
    assert result.exit_code == 0, result.output
    fault = json.loads(result.output)
    assert fault["fault_type"] == "oom" and fault["target"] == "shop/deploy/web-api"
    assert fault["truth"]["category"] == "oom"
    assert fault["truth"]["faulty_field"] == "spec.template.spec.containers[app].resources.limits.memory"
    assert fault["commit"] == sb.repo.head()

    listed = runner.invoke(sandbox_app, ["fault", "list", "--state", str(state)])
    assert [f["id"] for f in json.loads(listed.output)] == [fault["id"]]

    cleared = runner.invoke(
        sandbox_app, ["fault", "clear", "oom", "--target", "shop/deploy/web-api", "--state", str(state)]
    )
    assert cleared.exit_code == 0, cleared.output
    assert cleared.output.startswith(f"cleared {fault['id']} (commit ")
    assert (sb.repo_path / "apps/web-api/deployment.yaml").read_text() == original
    assert sb.faults() == []


def test_fault_errors_are_reported_not_raised(running: tuple[Sandbox, Path], tmp_path: Path) -> None:
    _, state = running
    unknown = runner.invoke(
        sandbox_app, ["fault", "inject", "gremlins", "-t", "shop/deploy/web-api", "--state", str(state)]
    )
    assert unknown.exit_code == 1 and "unknown fault type 'gremlins'" in unknown.output
    wrong = runner.invoke(
        sandbox_app,
        ["fault", "inject", "missing_env", "-t", "shop/deploy/joke-service", "--state", str(state)],
    )
    assert wrong.exit_code == 1 and "no required env var" in wrong.output
    nothing = runner.invoke(
        sandbox_app, ["fault", "clear", "oom", "-t", "shop/deploy/web-api", "--state", str(state)]
    )
    assert nothing.exit_code == 1 and "no active oom fault" in nothing.output
    absent = runner.invoke(sandbox_app, ["fault", "list", "--state", str(tmp_path / "none.json")])
    assert absent.exit_code == 1 and "no running sandbox found" in absent.output


def test_faults_lists_the_catalogue() -> None:
    result = runner.invoke(sandbox_app, ["faults"])
    assert result.exit_code == 0
    for name in FAULT_TYPES:
        assert name in result.output


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((parts.hostname, parts.port)) == 0


def _get(url: str, path: str) -> dict:
    with urllib.request.urlopen(f"{url}{path}", timeout=10) as response:
        return dict(json.load(response))


def _wait_for(ready: Callable[[], bool], timeout: float) -> None:
    """Poll `ready` until it holds or `timeout` seconds pass (the assertions after it say what failed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ready():
        time.sleep(0.2)


@pytest.mark.slow  # starts Python processes
@pytest.mark.integration
def test_up_serves_kubectl_and_faults_and_stops_on_sigint(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from paramedic.cli.sandbox import sandbox_app; sandbox_app()",
            "up",
            "--time-factor",
            "60",
            "--state",
            str(state),
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None  # both piped
    try:
        first = proc.stdout.readline()
        assert first.startswith("kubeconfig: "), first + proc.stderr.read()
        kubeconfig = first.split(": ", 1)[1].strip()
        info = json.loads(state.read_text())
        assert info["kubeconfig"] == kubeconfig and Path(kubeconfig).is_file()

        # Wait over plain HTTP (a kubectl process costs ~0.1 s of CPU), then ask kubectl.
        _wait_for(
            lambda: (
                sum(p["status"].get("phase") == "Running" for p in _get(info["url"], "/api/v1/pods")["items"])
                >= 6
            ),
            60,
        )
        deadline = time.monotonic() + 60
        out = ""
        while time.monotonic() < deadline:
            out = subprocess.run(
                ["kubectl", "--kubeconfig", kubeconfig, "get", "pods", "-A"],
                env={**os.environ, **GO_ENV},
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout
            if out.count("Running") >= 6:
                break
            time.sleep(0.5)
        assert "shop" in out and "web-api-" in out and out.count("Running") >= 6, out

        injected = runner.invoke(
            sandbox_app,
            ["fault", "inject", "scaled_to_zero", "-t", "shop/deploy/worker", "--state", str(state)],
        )
        assert injected.exit_code == 0, injected.output
        worker = "/apis/apps/v1/namespaces/shop/deployments/worker"
        _wait_for(lambda: _get(info["url"], worker)["spec"]["replicas"] == 0, 30)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            deploy = subprocess.run(
                [
                    "kubectl",
                    "--kubeconfig",
                    kubeconfig,
                    "-n",
                    "shop",
                    "get",
                    "deploy",
                    "worker",
                    "-o",
                    "jsonpath={.spec.replicas}",
                ],
                capture_output=True,
                text=True,
                env={**os.environ, **GO_ENV},
            ).stdout
            if deploy == "0":
                break
            time.sleep(0.3)
        assert deploy == "0"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, proc.stderr.read()
    assert not state.exists()
    assert not _port_open(info["url"]) and not _port_open(info["control_url"])
