"""Two `paramedic serve` replicas as processes over one sandbox cluster and one PostgreSQL.

`cluster` is a sandbox API server (real time, its GitOps loop syncing the local repository) with
the fault control server; `start_replicas(mode, **env)` starts replica-a and replica-b over it,
with short HA timings (lease 6 s, renew 4 s, retry 1 s, heartbeat 1 s, owner timeout 5 s) and
short verification windows, and stops whatever is still running at the end of the test. The
replicas are forked by a zygote that imported `paramedic` once for the package's tests
(tests/server/ha/zygote.py): each is its own `paramedic serve` process, without ~6 CPU-s of imports.
"""

from __future__ import annotations

import os
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
from server.runstore import RunStore, open_run_store
from server.runstore.models import AuditRecord
from tests.ports import free_port
from tests.processes import stop_process
from tests.server.ha.zygote import ForkedProcess, Zygote
from tools.gitops.local_pulls import PullStore
from tools.gitops.records import PullRequest
from tools.kubernetes.client import KubeClient

TOKEN = "replica-test-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LEASE = ("paramedic", "paramedic-leader")
NAMES = ("replica-a", "replica-b")
HA_TIMINGS = {
    "PARAMEDIC_HA__LEASE_DURATION_SECONDS": "6",
    "PARAMEDIC_HA__RENEW_DEADLINE_SECONDS": "4",
    "PARAMEDIC_HA__RETRY_PERIOD_SECONDS": "1",
    "PARAMEDIC_HA__HEARTBEAT_SECONDS": "1",
    "PARAMEDIC_HA__OWNER_TIMEOUT_SECONDS": "5",
}
# A fix is verified in seconds, not minutes (the sandbox runs at 30x; the replicas on the wall clock).
QUICK_VERIFY = {
    "PARAMEDIC_VERIFICATION__POLL_SECONDS": "1",
    "PARAMEDIC_VERIFICATION__SETTLE_SECONDS": "2",
    "PARAMEDIC_VERIFICATION__STABLE_SECONDS": "4",
    "PARAMEDIC_VERIFICATION__TIMEOUT_SECONDS": "120",
}


@dataclass
class Replica:
    """One `paramedic serve` process and its API.

    `http` is one client for all of the test's calls: a new `httpx.Client` (what `httpx.get`
    builds) reads the CA bundle again, ~60 ms of CPU, and the test polls several times a second.
    """

    name: str
    url: str
    proc: ForkedProcess
    log: Path
    http: httpx.Client

    def runs(self, **params: Any) -> list[dict[str, Any]]:
        got = self.http.get("/api/v1/runs", params=params, timeout=10)
        got.raise_for_status()
        return list(got.json()["items"])

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(path, json=body, timeout=30)

    def kill(self) -> float:
        """kill -9; the monotonic time it died."""
        self.proc.kill()  # SIGKILL: no hand-back of the Lease or the claims
        self.proc.wait(10)
        return time.monotonic()


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.25) -> Any:
    """Poll `check` until it answers something truthy (HTTP errors count as not yet); fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except httpx.HTTPError:
            found = None
        if found:
            return found
        time.sleep(every)
    pytest.fail(f"{what}: not within {timeout} s")


@dataclass
class Cluster:
    """The sandbox and its fault control server, with one API client the test's polls share."""

    sb: Sandbox
    control_url: str
    kube: KubeClient

    def inject(self, fault: str, target: str) -> None:
        done = httpx.post(f"{self.control_url}/faults", json={"type": fault, "target": target}, timeout=60)
        assert done.status_code < 300, done.text

    def leader(self) -> str | None:
        """The Lease's holder, if any."""
        try:
            lease = k8s.CoordinationV1Api(self.kube.api).read_namespaced_lease(LEASE[1], LEASE[0])
        except k8s.ApiException:
            return None
        return lease.spec.holder_identity if lease.spec else None

    def pulls(self, fingerprint: str | None = None) -> list[PullRequest]:
        """The local GitOps repository's pull requests (of one incident fingerprint)."""
        pulls = PullStore(self.sb.repo_path / ".git" / "paramedic").all()
        return [p for p in pulls if fingerprint is None or p.fingerprint == fingerprint]

    def anomaly_events(self, namespace: str, workload: str) -> int:
        """How many `AnomalyDetected` reports the cluster holds for a workload (Event counts summed)."""
        events = k8s.CoreV1Api(self.kube.api).list_namespaced_event(namespace).items
        counts: list[int] = [
            int(e.count or 1)
            for e in events
            if e.reason == "AnomalyDetected" and e.involved_object and e.involved_object.name == workload
        ]
        return sum(counts)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    sb = Sandbox(workdir=tmp_path / "sandbox").start()
    control = ControlServer(sb, dict).start()
    kube = KubeClient.from_config(str(sb.kubeconfig_path))
    try:
        sb.wait_healthy(timeout=60)
        k8s.CoreV1Api(kube.api).create_namespace(k8s.V1Namespace(metadata=k8s.V1ObjectMeta(name="paramedic")))
        yield Cluster(sb, control.url, kube)
    finally:
        kube.close()
        control.stop()
        sb.stop()


@pytest.fixture
def shared_store(fresh_postgres_url: str) -> Iterator[RunStore]:
    """The replicas' store, opened by the test to read claims and the audit log."""
    store = open_run_store(fresh_postgres_url)
    yield store
    store.close()


@pytest.fixture(scope="package")
def zygote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Zygote]:
    """The process the replicas are forked from; stopped (and reaped, with them) after the package."""
    started = Zygote(tmp_path_factory.mktemp("zygote") / "zygote.log")
    yield started
    started.close()


StartReplicas = Callable[..., dict[str, Replica]]
STARTUP_SECONDS = 300.0  # two processes starting on a 2-core machine shared by others


def _up(replica: Replica, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and replica.proc.poll() is None:
        try:
            if replica.http.get("/healthz", timeout=2).is_success:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def _tail(replica: Replica, lines: int = 30) -> str:
    return "\n".join(replica.log.read_text(errors="replace").splitlines()[-lines:])


@pytest.fixture
def start_replicas(
    cluster: Cluster, fresh_postgres_url: str, shared_store: RunStore, tmp_path: Path, zygote: Zygote
) -> Iterator[StartReplicas]:
    """`start_replicas(mode, **env)`: both replicas up (health checked); stopped after the test."""
    started: dict[str, Replica] = {}

    def start(mode: str = "report", **extra: str) -> dict[str, Replica]:
        began = time.monotonic()
        for name in NAMES:
            port = free_port()
            env = {
                **os.environ,
                "PARAMEDIC_MODE": mode,
                "PARAMEDIC_DATA_DIR": str(tmp_path / name),
                "PARAMEDIC_STORAGE_URL": fresh_postgres_url,
                "PARAMEDIC_CLUSTER__KUBECONFIG": str(cluster.sb.kubeconfig_path),
                "PARAMEDIC_GIT__PROVIDER": "local",
                "PARAMEDIC_GIT__LOCAL_PATH": str(cluster.sb.repo_path),
                "PARAMEDIC_SERVER__PORT": str(port),
                "PARAMEDIC_SERVER__TOKEN": TOKEN,
                "PARAMEDIC_HA__ENABLED": "true",
                "PARAMEDIC_HA__IDENTITY": name,
                **HA_TIMINGS,
                **extra,
            }
            log = tmp_path / f"{name}.log"
            url = f"http://127.0.0.1:{port}"
            proc = zygote.spawn(["serve"], env, log)
            started[name] = Replica(name, url, proc, log, httpx.Client(base_url=url, headers=AUTH))
        for replica in started.values():
            if not _up(replica, STARTUP_SECONDS - (time.monotonic() - began)):
                pytest.fail(
                    f"{replica.name} not up within {STARTUP_SECONDS} s; its log ends:\n{_tail(replica)}"
                )
        print(f"both replicas up in {time.monotonic() - began:.1f} s")
        return dict(started)

    try:
        yield start
    finally:
        for replica in started.values():
            stop_process(replica.proc, timeout=20)  # type: ignore[arg-type]  # duck-typed: the Popen calls it makes
            replica.http.close()


ACTIVE = frozenset({"queued", "running", "waiting_approval", "waiting_merge"})


def final_runs(replica: Replica, workload: str) -> list[dict[str, Any]] | None:
    """The workload's runs once every one has ended (none queued, running or waiting)."""
    runs = replica.runs(workload=workload)
    return runs if runs and all(r["status"] not in ACTIVE for r in runs) else None


def remediations(store: RunStore, run: dict[str, Any]) -> tuple[list[dict[str, Any]], list[AuditRecord]]:
    """The run's changes (its record's remediation entries but a human's merge of its pull
    request, recorded in that phase too) and the audit entries of those actions (the store)."""
    done = [a for a in run["actions"] if a.get("phase") == "remediation" and a.get("action") != "merge"]
    names = {str(a.get("action")) for a in done}
    return done, [a for a in store.audit_log(run_id=run["id"], limit=1000) if a.action in names]
