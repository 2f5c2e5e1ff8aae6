"""`paramedic serve --sandbox` as a real process: the watcher sees an injected fault, the run
shows up in `GET /runs` and on the SSE stream, and the probes and metrics answer; a configured
storage URL (PostgreSQL) is where its runs, checkpoints and breakers go.

One process serves both checks: a start-up (imports, sandbox, watcher) costs seconds of CPU, and
the configured store is where the watcher's run lands as well as the alert's."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app
from tests.ports import free_port
from tests.processes import stop_process

pytestmark = pytest.mark.integration
Served = tuple[httpx.Client, dict[str, Any], dict[str, str], list[str]]  # client, sandbox state, auth, output


@contextlib.contextmanager
def _serve(tmp_path: Path, **extra_env: str) -> Iterator[Served]:
    """`serve --sandbox` running: a client on its base URL, sandbox state, auth header, and (filled at
    exit) its output. One client for every call: each `httpx.get` would build one and read the CA
    bundle again (~60 ms of CPU), and the start-up is polled five times a second."""
    port = free_port()
    output_lines: list[str] = []
    log = tmp_path / "serve-output.txt"  # a file, not a pipe: nothing to drain while it runs
    state = tmp_path / "sandbox-state.json"
    env = {
        **os.environ,
        "PARAMEDIC_DATA_DIR": str(tmp_path / "data"),  # where serve generates its API token
        "PARAMEDIC_SERVER__PORT": str(port),
        "PARAMEDIC_SANDBOX_STATE": str(state),
        "PARAMEDIC_MODE": "report",
        **extra_env,
    }
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "paramedic.cli.main", "serve", "--sandbox"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            try:
                if http.get("/healthz", timeout=1).status_code == 200 and state.exists():
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        else:
            pytest.fail("paramedic serve did not come up in 60 s")
        # No token configured: serve generated one (0600) in the data directory and said where.
        token_file = tmp_path / "data" / "api-token"
        assert token_file.stat().st_mode & 0o777 == 0o600
        token = token_file.read_text().strip()
        yield http, json.loads(state.read_text()), {"Authorization": f"Bearer {token}"}, output_lines
    finally:
        stop_process(proc, timeout=20)
        http.close()
    output = log.read_text()
    output_lines.extend(output.splitlines())
    assert proc.returncode == 0, output
    assert str(token_file) in output and token not in output, "serve says where the token is, never what"


@pytest.mark.e2e
def test_an_injected_fault_and_an_alert_become_runs_in_the_configured_store(
    tmp_path: Path, fresh_postgres_url: str
) -> None:
    with _serve(tmp_path, PARAMEDIC_STORAGE_URL=fresh_postgres_url) as (http, state, auth, output):
        run_id = _an_injected_fault_becomes_a_run_listed_and_streamed(http, state, auth)
        _an_alert_opens_a_run(http, auth, fresh_postgres_url, seen_run=run_id)
    assert any(line.startswith("paramedic: runs stored in postgresql://") for line in output)
    assert not (tmp_path / "data" / "paramedic.db").exists(), "nothing went to the default SQLite file"


def _an_injected_fault_becomes_a_run_listed_and_streamed(
    http: httpx.Client, state: dict[str, Any], auth: dict[str, str]
) -> str:
    assert http.get("/readyz", timeout=10).status_code == 200
    assert http.get("/api/v1/runs", timeout=5).status_code == 401, "reads need the generated token"
    assert http.get("/api/v1/runs", headers=auth, timeout=5).json()["items"] == []
    seen: list[dict] = []
    with http.stream("GET", "/api/v1/events", headers=auth, timeout=httpx.Timeout(30, read=30)) as stream:
        injected = http.post(
            f"{state['control_url']}/faults",
            json={"type": "bad_image", "target": "shop/deploy/web-api", "via": "git"},
            timeout=60,
        )
        assert injected.status_code < 300, injected.text
        for line in stream.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                if any(e.get("node") == "report" and e.get("type") == "node_end" for e in seen):
                    break
    run_ids = {e["run_id"] for e in seen}
    assert len(run_ids) == 1
    (run_id,) = run_ids
    runs = http.get("/api/v1/runs", params={"workload": "web-api"}, headers=auth, timeout=5).json()
    assert [r["id"] for r in runs["items"]] == [run_id]
    # The report node's end is streamed before the run's final status is stored, and the run's end
    # is counted (the finish hooks) after that: a reader right behind the stream waits a moment.
    deadline = time.monotonic() + 10
    while (run := http.get(f"/api/v1/runs/{run_id}", headers=auth, timeout=5).json())["status"] == "running":
        assert time.monotonic() < deadline, run
        time.sleep(0.1)
    assert run["status"] == "reported"  # report mode: diagnosed, nothing changed
    assert run["diagnosis"]["category"] == "bad_image"
    while 'outcome="reported"' not in (metrics := http.get("/metrics", headers=auth, timeout=5).text):
        assert time.monotonic() < deadline, metrics
        time.sleep(0.1)
    return str(run_id)


def _an_alert_opens_a_run(http: httpx.Client, auth: dict[str, str], storage_url: str, seen_run: str) -> None:
    from server.runstore import open_run_store
    from tests.server.alerts.conftest import alert, notification

    # Another workload than the injected fault's, so the alert opens its own incident.
    labels = {"alertname": "KubePodCrashLooping", "namespace": "shop", "deployment": "worker"}
    intake = http.post("/api/v1/alerts/alertmanager", json=notification(alert(labels)),
                        headers=auth, timeout=30)  # fmt: skip
    assert intake.status_code == 202, intake.text
    (result,) = intake.json()["results"]
    assert result["result"] == "opened"
    run_id = result["run_id"]
    with open_run_store(storage_url) as store:
        assert store.get_run(run_id).target.name == "worker", "the run is in the configured PostgreSQL"
        assert store.get_run(seen_run).target.name == "web-api", "and so is the watcher's run"


def test_a_public_bind_without_a_token_is_refused(tmp_path: Path) -> None:
    # In process: the refusal comes before any server, sandbox or store is started, so the
    # command's exit code and message are what a process would give (the console script itself
    # is started as a process in tests/paramedic/cli/test_main.py).
    env = {
        "PARAMEDIC_DATA_DIR": str(tmp_path / "data"),
        "PARAMEDIC_SERVER__HOST": "0.0.0.0",
        "PARAMEDIC_SERVER__PORT": str(free_port()),
    }
    result = CliRunner().invoke(app, ["serve"], env=env)
    assert result.exit_code == 2, result.output
    assert "token" in result.output.lower()
    assert not (tmp_path / "data" / "api-token").exists(), "nothing generated for a refused bind"
