"""`paramedic run` against the sandbox through the real kubeconfig: report mode diagnoses and
changes nothing; bad input exits 2 with the reason."""

from __future__ import annotations

import re
import subprocess
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


def test_autonomous_mode_heals(tmp_path: Path) -> None:
    # Its own sandbox: the module's is shared by tests that xdist may run on other workers, in any
    # order, so its state after the approval test is not this test's to assume.
    with Sandbox(workdir=tmp_path / "sb", seed=5) as sb:
        sb.wait_healthy(timeout=30)
        sb.inject("missing_env", "shop/deploy/worker")
        sb.advance(120)
        env = _env(sb, tmp_path / "data", PARAMEDIC_MODE="autonomous", PARAMEDIC_GIT__AUTO_MERGE="true")
        result = CliRunner().invoke(app, ["run", "-n", "shop", "-w", "deploy/worker"], env=env)
        assert result.exit_code == 0, result.output
        assert "diagnosis: missing_env" in result.output and ": healed" in result.output
        sb.wait_healthy(timeout=30)


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


BATCH = """
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: batch}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: migrate
        image: busybox:1.36
        command: ["sh", "-c", "echo 'migration failed: relation users does not exist'; exit 1"]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: batch}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: report
            image: busybox:1.36
            command: ["sh", "-c", "exit 3"]
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: batch}
spec:
  containers:
  - name: debug
    image: busybox:1.36
    command: ["sh", "-c", "echo starting; exit 2"]
"""


@pytest.fixture(scope="module")
def batch_sandbox(tmp_path_factory: pytest.TempPathFactory):
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=5, background=False) as sb:
        kubectl = ["kubectl", "--kubeconfig", str(sb.kubeconfig_path)]
        subprocess.run([*kubectl, "create", "namespace", "batch"], check=True, capture_output=True)
        subprocess.run(
            [*kubectl, "apply", "-f", "-"], input=BATCH, text=True, check=True, capture_output=True
        )
        sb.advance(150)
        yield sb


@pytest.mark.parametrize("workload", ["job/migrate", "cronjob/report", "pod/debug"])
def test_a_job_a_cronjob_and_a_bare_pod_can_be_investigated(
    batch_sandbox: Sandbox, tmp_path: Path, workload: str
) -> None:
    result = CliRunner().invoke(
        app, ["run", "-n", "batch", "-w", workload], env=_env(batch_sandbox, tmp_path)
    )
    assert result.exit_code in (0, 1), result.output  # reported, or escalated: never refused as bad input
    assert "diagnosis:" in result.output, result.output
