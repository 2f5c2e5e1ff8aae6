"""`paramedic demo` end to end on the sandbox: the real watcher and graph heal injected faults, the
table says so, --keep-running serves the API over the demo's runs, and the exit code is 0 only when
every fault was diagnosed and healed. How a run becomes a table row (and a failed row a failed
demo) is checked on the rows themselves, without a sandbox."""

from __future__ import annotations

import io
import os
import signal
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest
from rich.console import Console

from agent.config import Settings
from agent.domain import WorkloadRef
from paramedic.cli.demo import FAULTS, _row, demo_command
from paramedic.cli.demo_view import summary_table
from server.runstore.models import RunRecord, RunStatus
from tests.ports import free_port

HEALS = [("bad_image", "shop/deploy/web-api"), ("missing_env", "shop/deploy/worker")]


class _ApiWatcher(threading.Thread):
    """Polls the demo's API until it answers, keeps what it listed, then presses Ctrl-C."""

    def __init__(self, port: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.port, self.deadline = port, deadline
        self.runs: list[dict] | None = None
        self.dashboard_status: int | None = None

    def run(self) -> None:
        base = f"http://127.0.0.1:{self.port}"
        while time.monotonic() < self.deadline:
            try:
                self.runs = httpx.get(f"{base}/api/v1/runs", timeout=2).json()["items"]
                self.dashboard_status = httpx.get(f"{base}/ui/runs", timeout=5).status_code
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            # The API is up, so uvicorn holds SIGINT in this (the main) thread: a Ctrl-C stops it.
            os.kill(os.getpid(), signal.SIGINT)
            return


@pytest.mark.e2e
def test_the_demo_heals_two_faults_serves_their_runs_and_exits_0_on_ctrl_c(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("PARAMEDIC_SERVER__PORT", str(port))
    watcher = _ApiWatcher(port, time.monotonic() + 240)
    watcher.start()
    # --keep-running: the API comes up once every fault has been handled and the table printed.
    assert demo_command(Settings(), keep_running=True, faults=HEALS) == 0
    watcher.join(timeout=10)
    out = capsys.readouterr().out
    assert "2/2 faults diagnosed and healed" in out
    for fault, _ in HEALS:
        row = next(line for line in out.splitlines() if line.startswith(f"│ {fault} "))
        assert "yes" in row, row
    assert "revert_commit" in out and "gitops_pr" in out  # each fix went through a pull request
    assert "merged into main" in out
    assert sorted((r["target"]["name"], r["status"]) for r in watcher.runs or []) == [
        ("web-api", "healed"),
        ("worker", "healed"),
    ]
    assert watcher.dashboard_status == 200
    assert "stopping" in out


def test_the_demo_sequence_has_at_least_five_different_faults() -> None:
    assert len({fault for fault, _ in FAULTS}) >= 5


def _record(status: RunStatus, category: str, actions: list[dict]) -> RunRecord:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return RunRecord(
        id="run-1",
        incident_id="inc-1",
        fingerprint="fp",
        target=WorkloadRef(namespace="shop", name="web-api"),
        mode="autonomous",
        provider="rules",
        status=status,
        created_at=now,
        updated_at=now,
        diagnosis={"category": category, "confidence": 0.9, "remediation": {"action": "gitops_pr"}},
        actions=actions,
    )


def _table_text(rows) -> str:  # type: ignore[no-untyped-def]
    console = Console(width=200, record=True, file=io.StringIO())
    console.print(summary_table(rows))
    return console.export_text()


def test_a_healed_run_is_a_correct_row_with_its_pr_and_attempts() -> None:
    actions = [
        {"phase": "remediation", "pr_url": "file:///x/pulls/1.json"},
        {"phase": "verification"},
        {"phase": "remediation", "pr_url": "file:///x/pulls/2.json"},
    ]
    record = _record(RunStatus.HEALED, "bad_image", actions)
    row = _row("bad_image", "shop/deploy/web-api", "bad_image", record, True, 40.0, 2.5)
    assert (row.target, row.diagnosis, row.action, row.pr, row.attempts, row.outcome) == (
        "web-api", "bad_image", "gitops_pr", "#2", 2, "healed"
    )  # fmt: skip
    assert row.correct
    assert "│ bad_image " in _table_text([row]) and "yes" in _table_text([row])


@pytest.mark.parametrize(
    ("record", "recovered", "shown"),
    [
        # The rules blame the victim's dependency, which is out of the run's reach: escalated, not healed.
        (_record(RunStatus.ESCALATED, "dependency_down", []), False, "no (escalated)"),
        # Healed by the run's own account, but the sandbox never settled.
        (_record(RunStatus.HEALED, "dependency_down", []), False, "no (healed)"),
        (None, False, "no (no run)"),  # no run finished within the demo's wait
    ],
)
def test_a_fault_not_healed_is_a_failed_row_and_fails_the_demo(
    record: RunRecord | None, recovered: bool, shown: str
) -> None:
    row = _row("dependency_down", "shop/deploy/web-api", "dependency_down", record, recovered, None, None)
    assert not row.correct, "the demo's exit code is 0 only when every row is correct"
    line = next(ln for ln in _table_text([row]).splitlines() if ln.startswith("│ dependency_down "))
    assert shown in line


def test_a_wrong_diagnosis_is_a_failed_row_even_when_the_workload_recovers() -> None:
    row = _row(
        "oom", "shop/deploy/joke-service", "oom", _record(RunStatus.HEALED, "bad_command", []), True, 1, 1
    )
    assert row.recovered and not row.correct
