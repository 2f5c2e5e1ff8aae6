"""`paramedic run` against the sandbox through the real kubeconfig: report mode diagnoses and
changes nothing; bad input exits 2 with the reason."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app
from sandbox.cluster import Sandbox

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def broken_sandbox(tmp_path_factory: pytest.TempPathFactory):
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=5) as sb:
        sb.wait_healthy(timeout=30)
        sb.inject("bad_image", "shop/deploy/web-api")
        sb.advance(120)
        yield sb


def _env(sb: Sandbox, data: Path, **extra: str) -> dict[str, str]:
    return {
        "PARAMEDIC_CLUSTER__KUBECONFIG": str(sb.kubeconfig_path),
        "PARAMEDIC_DATA_DIR": str(data),
        "PARAMEDIC_GIT__PROVIDER": "local",
        "PARAMEDIC_GIT__LOCAL_PATH": str(sb.repo_path),
        # The CLI waits in wall time; the sandbox runs at 30x, so seconds here are minutes there.
        "PARAMEDIC_VERIFICATION__SETTLE_SECONDS": "1",
        "PARAMEDIC_VERIFICATION__STABLE_SECONDS": "3",
        "PARAMEDIC_VERIFICATION__POLL_SECONDS": "0.5",
        "PARAMEDIC_VERIFICATION__TIMEOUT_SECONDS": "60",
        **extra,
    }


def test_report_mode_diagnoses_and_changes_nothing(broken_sandbox: Sandbox, tmp_path: Path) -> None:
    head = broken_sandbox.repo.head()
    result = CliRunner().invoke(
        app, ["run", "-n", "shop", "-w", "deploy/web-api"], env=_env(broken_sandbox, tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "diagnosis: bad_image" in result.output
    assert ": reported" in result.output
    assert broken_sandbox.repo.head() == head, "report mode must not change Git"
    assert (tmp_path / "paramedic.db").exists(), "the run is stored like any other"


def test_approve_mode_waits_then_a_local_approval_heals(broken_sandbox: Sandbox, tmp_path: Path) -> None:
    env = _env(broken_sandbox, tmp_path, PARAMEDIC_MODE="approve", PARAMEDIC_GIT__AUTO_MERGE="true")
    waiting = CliRunner().invoke(app, ["run", "-n", "shop", "-w", "deploy/web-api"], env=env)
    assert waiting.exit_code == 4, waiting.output
    run_id = re.search(r"run ([0-9a-f]{32}): waiting_approval", waiting.output).group(1)
    refused = CliRunner().invoke(app, ["approve", "nope", "--by", "alice", "--local"], env=env)
    assert refused.exit_code == 1
    done = CliRunner().invoke(
        app, ["approve", run_id, "--by", "alice", "--comment", "ok", "--local"], env=env
    )
    assert done.exit_code == 0, done.output
    assert f"run {run_id}: healed" in done.output
    assert "alice" in done.output  # the audit line names who approved
    again = CliRunner().invoke(app, ["approve", run_id, "--by", "alice", "--local"], env=env)
    assert again.exit_code == 1 and "not waiting" in again.output


def test_autonomous_mode_heals(broken_sandbox: Sandbox, tmp_path: Path) -> None:
    broken_sandbox.wait_healthy(timeout=30)  # the approval test healed the first fault
    broken_sandbox.inject("missing_env", "shop/deploy/worker")
    broken_sandbox.advance(120)
    env = _env(broken_sandbox, tmp_path, PARAMEDIC_MODE="autonomous", PARAMEDIC_GIT__AUTO_MERGE="true")
    result = CliRunner().invoke(app, ["run", "-n", "shop", "-w", "deploy/worker"], env=env)
    assert result.exit_code == 0, result.output
    assert "diagnosis: missing_env" in result.output and ": healed" in result.output
    broken_sandbox.wait_healthy(timeout=30)


@pytest.mark.parametrize(
    ("workload", "message"),
    [("deploy/no-such-app", "not found"), ("a/b/c/d", "cannot parse workload")],
)
def test_bad_workloads_exit_2(broken_sandbox: Sandbox, tmp_path: Path, workload: str, message: str) -> None:
    result = CliRunner().invoke(
        app, ["run", "-n", "shop", "-w", workload], env=_env(broken_sandbox, tmp_path)
    )
    assert result.exit_code == 2
    assert message in result.output.lower()
