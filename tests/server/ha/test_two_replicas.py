"""Two `paramedic serve` replicas over one sandbox cluster and one PostgreSQL, as processes: one
leader watches, one run per incident whichever replica is asked, and after a kill -9 of the
leader the other replica handles the next fault within 30 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from kubernetes import client as k8s

from sandbox.cluster import Sandbox
from sandbox.faults.control import ControlServer
from tools.kubernetes.client import KubeClient

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]

TOKEN = "replica-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LEASE = ("paramedic", "paramedic-leader")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    name: str
    url: str
    proc: subprocess.Popen[str]
    log: Path

    def runs(self, **params: Any) -> list[dict[str, Any]]:
        got = httpx.get(f"{self.url}/api/v1/runs", params=params, headers=AUTH, timeout=10)
        got.raise_for_status()
        return list(got.json()["items"])


def _wait(what: str, check: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(0.25)
    pytest.fail(f"{what}: not within {timeout} s")


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[Sandbox, str]]:
    sb = Sandbox(workdir=tmp_path / "sandbox").start()
    control = ControlServer(sb, dict).start()
    kube = KubeClient.from_config(str(sb.kubeconfig_path))
    try:
        sb.wait_healthy(timeout=60)
        k8s.CoreV1Api(kube.api).create_namespace({"metadata": {"name": "paramedic"}})
        yield sb, control.url
    finally:
        kube.close()
        control.stop()
        sb.stop()


@pytest.fixture
def replicas(
    cluster: tuple[Sandbox, str], fresh_postgres_url: str, tmp_path: Path
) -> Iterator[dict[str, Replica]]:
    sb, _ = cluster
    started: dict[str, Replica] = {}
    for name in ("replica-a", "replica-b"):
        port = _free_port()
        env = {
            **os.environ,
            "PARAMEDIC_MODE": "report",
            "PARAMEDIC_DATA_DIR": str(tmp_path / name),
            "PARAMEDIC_STORAGE_URL": fresh_postgres_url,
            "PARAMEDIC_CLUSTER__KUBECONFIG": str(sb.kubeconfig_path),
            "PARAMEDIC_GIT__PROVIDER": "local",
            "PARAMEDIC_GIT__LOCAL_PATH": str(sb.repo_path),
            "PARAMEDIC_SERVER__PORT": str(port),
            "PARAMEDIC_SERVER__TOKEN": TOKEN,
            "PARAMEDIC_HA__ENABLED": "true",
            "PARAMEDIC_HA__IDENTITY": name,
            "PARAMEDIC_HA__LEASE_DURATION_SECONDS": "6",
            "PARAMEDIC_HA__RENEW_DEADLINE_SECONDS": "4",
            "PARAMEDIC_HA__RETRY_PERIOD_SECONDS": "1",
            "PARAMEDIC_HA__HEARTBEAT_SECONDS": "1",
            "PARAMEDIC_HA__OWNER_TIMEOUT_SECONDS": "5",
        }
        log = tmp_path / f"{name}.log"
        with log.open("w") as out:
            command = [sys.executable, "-m", "paramedic.cli.main", "serve"]
            proc = subprocess.Popen(command, env=env, stdout=out, stderr=out, text=True)
        started[name] = Replica(name, f"http://127.0.0.1:{port}", proc, log)
    try:
        for replica in started.values():
            _wait(
                f"{replica.name} up",
                lambda r=replica: httpx.get(f"{r.url}/healthz", timeout=1).is_success,
                180,  # two processes importing everything on a busy 2-core machine
            )
        yield started
    finally:
        for replica in started.values():
            if replica.proc.poll() is None:
                replica.proc.terminate()
                try:
                    replica.proc.wait(20)
                except subprocess.TimeoutExpired:
                    replica.proc.kill()
                    replica.proc.wait()


def _leader(sb: Sandbox) -> str | None:
    kube = KubeClient.from_config(str(sb.kubeconfig_path))
    try:
        lease = k8s.CoordinationV1Api(kube.api).read_namespaced_lease(LEASE[1], LEASE[0])
    except k8s.ApiException:
        return None
    finally:
        kube.close()
    return lease.spec.holder_identity if lease.spec else None


def _inject(control_url: str, fault: str, target: str) -> None:
    done = httpx.post(f"{control_url}/faults", json={"type": fault, "target": target}, timeout=60)
    assert done.status_code < 300, done.text


def _final_runs(replica: Replica, workload: str) -> list[dict[str, Any]] | None:
    runs = replica.runs(workload=workload)
    return runs if runs and all(r["status"] not in ("queued", "running") for r in runs) else None


def test_one_leader_one_run_per_incident_and_a_failover_within_30_seconds(
    cluster: tuple[Sandbox, str], replicas: dict[str, Replica]
) -> None:
    sb, control_url = cluster
    leader_name = _wait("a leader", lambda: _leader(sb), 30)
    leader = replicas[leader_name]
    (follower,) = (r for r in replicas.values() if r.name != leader_name)

    _inject(control_url, "bad_image", "shop/deploy/web-api")
    runs = _wait("the first incident's run, finished", lambda: _final_runs(follower, "web-api"), 90)
    assert len(runs) == 1, "one run per incident, though both replicas see the cluster"
    assert runs[0]["status"] == "reported" and runs[0]["diagnosis"]["category"] == "bad_image"
    assert [r["id"] for r in leader.runs(workload="web-api")] == [runs[0]["id"]], "one store"

    leader.proc.send_signal(signal.SIGKILL)
    leader.proc.wait(10)
    killed_at = time.monotonic()
    _inject(control_url, "bad_image", "shop/deploy/worker")
    _wait("the survivor's run for the next fault", lambda: follower.runs(workload="worker"), 30)
    assert time.monotonic() - killed_at < 30
    assert _leader(sb) == follower.name
    runs = _wait("the next incident's run, finished", lambda: _final_runs(follower, "worker"), 90)
    assert len(runs) == 1 and runs[0]["status"] == "reported"
    # Nothing the dead leader held is left blocking its workload.
    assert not follower.runs(status="running") and not follower.runs(status="queued")
