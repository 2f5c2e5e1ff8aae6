"""Failed Jobs (aimed at their CronJob when one made them) and Pending claims, as pure detections;
and the watcher raising them from what the sandbox's Job, CronJob, StatefulSet, DaemonSet and claim
controllers really produce."""

from __future__ import annotations

import queue
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef
from server.watcher import detect as d
from server.watcher.detect import DetectPolicy, Finding
from server.watcher.detect_batch import CLAIM_PENDING, JOB_FAILED, detect_claim, detect_job
from server.watcher.watcher import Watcher
from tests.server.watcher.driving import feed, specs_of, step

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
POLICY = DetectPolicy(grace_seconds=60)


def _job(reason: str | None, owner: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": "batch", "name": "migrate-29000000"}
    if owner:
        meta["ownerReferences"] = [{"kind": "CronJob", "name": owner, "uid": "u", "controller": True}]
    failed = {"type": "Failed", "status": "True", "reason": reason}
    conditions = [failed | {"message": "Job has reached the specified backoff limit"}] if reason else []
    return {"kind": "Job", "metadata": meta, "status": {"conditions": conditions}}


def test_a_failed_job_is_an_incident_on_the_job() -> None:
    (finding,) = detect_job(_job("BackoffLimitExceeded")).findings
    assert finding.reason == JOB_FAILED
    assert finding.target == WorkloadRef(namespace="batch", kind="Job", name="migrate-29000000")
    assert "BackoffLimitExceeded" in finding.message and "backoff limit" in finding.message


def test_a_failed_jobs_message_is_redacted_before_it_is_cut() -> None:
    # The Job detector did not redact (the pod detectors did); a cut at 300 characters could also
    # split a secret before the redactor saw it whole.
    job = _job("BackoffLimitExceeded")
    planted = "postgres://admin:Pl4ntedPw9x@db:5432/app"
    for prefix in ("", "x" * 258):  # whole, and cut right through the password at 300 characters
        job["status"]["conditions"][0]["message"] = f"{prefix} could not reach {planted}"
        (finding,) = detect_job(job).findings
        assert "Pl4nt" not in finding.message, finding.message


def test_every_findings_message_is_redacted_whatever_the_detector() -> None:
    finding = Finding(JOB_FAILED, "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 in the message")
    assert "ghp_abcdefghij" not in finding.message and "«redacted:" in finding.message


def test_a_cronjobs_failed_run_is_an_incident_on_the_cronjob() -> None:
    (finding,) = detect_job(_job("DeadlineExceeded", owner="nightly")).findings
    assert finding.target == WorkloadRef(namespace="batch", kind="CronJob", name="nightly")
    assert "DeadlineExceeded" in finding.message


@pytest.mark.parametrize("job", [_job(None), {}, {"metadata": "x"}, "garbage", _job("X") | {"metadata": {}}])
def test_a_running_complete_or_malformed_job_is_nothing(job: Any) -> None:
    assert not detect_job(job)


def _claim(age: float, phase: str = "Pending") -> dict[str, Any]:
    created = (NOW - timedelta(seconds=age)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "metadata": {"namespace": "db", "name": "data-pg-0", "creationTimestamp": created},
        "spec": {"storageClassName": "fast-ssd"},
        "status": {"phase": phase},
    }


def test_a_claim_pending_past_the_grace_period_is_an_incident() -> None:
    early = detect_claim(_claim(30), NOW, POLICY)
    assert not early and early.recheck_at == NOW + timedelta(seconds=30)
    (finding,) = detect_claim(_claim(90), NOW, POLICY).findings
    assert finding.reason == CLAIM_PENDING and "fast-ssd" in finding.message
    assert finding.target == WorkloadRef(namespace="db", kind="PersistentVolumeClaim", name="data-pg-0")


def test_a_bound_claim_or_one_waiting_for_its_consumer_is_nothing() -> None:
    assert not detect_claim(_claim(900, "Bound"), NOW, POLICY)
    assert not detect_claim(_claim(900), NOW, POLICY, waiting_for_consumer=True)


MANIFESTS = """
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: migrate, image: "busybox:1.36", command: ["sh", "-c", "exit 1"]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "* * * * *"
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - {name: report, image: "busybox:1.36", command: ["sh", "-c", "exit 3"]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - {name: db, image: "postgres:16"}  # no POSTGRES_PASSWORD
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers:
      - {name: agent, image: "busybox:1.36", command: ["sh", "-c", "exit 1"]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch}
spec:
  storageClassName: fast-ssd
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
"""
STREAMS = ("Pod", "Job", "PersistentVolumeClaim")


@pytest.mark.e2e
def test_the_watcher_raises_each_kind_from_the_sandbox() -> None:
    from sandbox.cluster import Sandbox
    from sandbox.resources import JOBS, REPLICASETS

    with Sandbox(Path(tempfile.mkdtemp()), seed=3, background=False, serve=True) as sb:

        def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
            return sb.store.find(JOBS if kind == "Job" else REPLICASETS, namespace, name)

        settings = ScopeSettings(grace_period_seconds=60, restart_threshold=3)
        watcher = Watcher(
            k8s.ApiClient(k8s.Configuration()), settings, lambda i: None, sb.clock.now, reader=read
        )
        specs = specs_of(STREAMS)
        events: queue.Queue[Any] = queue.Queue()
        sub = sb.store.subscribe(events.put)
        kubectl = ["kubectl", "--kubeconfig", str(sb.kubeconfig_path)]
        subprocess.run([*kubectl, "create", "namespace", "batch"], check=True, capture_output=True)
        subprocess.run([*kubectl, "apply", "-n", "batch", "-f", "-"], input=MANIFESTS, text=True, check=True)
        incidents: list[Incident] = []
        try:
            for _ in range(60):
                sb.advance(5)
                feed(watcher, specs, events)
                incidents += step(watcher, sb.clock.now())
        finally:
            sb.store.unsubscribe(sub)
    seen = {(i.target.kind, i.target.name): i.reason for i in incidents}
    assert seen.get(("Job", "migrate")) == JOB_FAILED, seen
    assert seen.get(("CronJob", "nightly")) == JOB_FAILED, seen
    assert seen.get(("DaemonSet", "agent")) in (d.CRASH_LOOP, d.FREQUENT_RESTARTS), seen
    assert seen.get(("PersistentVolumeClaim", "scratch")) == CLAIM_PENDING, seen
    # postgres exits at once without POSTGRES_PASSWORD, as the real image does
    assert seen.get(("StatefulSet", "db")) in (d.CRASH_LOOP, d.FREQUENT_RESTARTS), seen
