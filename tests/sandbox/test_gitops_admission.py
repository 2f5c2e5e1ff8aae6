"""Objects the sync loop creates go through what the API server does on create: a Job gets its
generated selector, and admission (here a LimitRange) can refuse an object, which fails on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.cluster import Sandbox
from sandbox.resources import JOBS, PODS

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: seed
  namespace: shop
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: seed
        image: busybox:1.36
        command: ["sh", "-c", "echo seeded"]
"""
LIMITS = """apiVersion: v1
kind: LimitRange
metadata:
  name: caps
  namespace: shop
spec:
  limits:
  - type: Container
    max:
      memory: 256Mi
"""
BIG_POD = """apiVersion: v1
kind: Pod
metadata:
  name: big
  namespace: shop
spec:
  containers:
  - name: app
    image: nginx:1.27
    resources:
      limits:
        memory: 1Gi
"""


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path, seed=2, background=False) as sb:
        yield sb


def test_a_job_from_git_gets_its_generated_selector_and_completes(sandbox: Sandbox) -> None:
    sandbox.commit({"apps/seed-job.yaml": JOB}, "add the seed job")
    job = sandbox.store.get(JOBS, "shop", "seed")
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "seed"
    assert sandbox.wait_for(
        lambda: any(
            c.get("type") == "Complete"
            for c in (sandbox.store.get(JOBS, "shop", "seed").get("status") or {}).get("conditions") or []
        ),
        60,
    )


def test_admission_refuses_one_object_and_the_rest_still_syncs(sandbox: Sandbox) -> None:
    sandbox.commit({"apps/limits.yaml": LIMITS}, "cap container memory")
    sandbox.commit({"apps/big-pod.yaml": BIG_POD}, "add a debug pod")
    report = sandbox.gitops.last_report
    assert report is not None
    failed = {r.name: r.message for r in report.resources if r.status == "SyncFailed"}
    assert "maximum memory usage per Container is 256Mi, but limit is 1Gi" in failed["big"]
    assert sandbox.store.find(PODS, "shop", "big") is None
    assert not [r for r in report.resources if r.status == "SyncFailed" and r.name != "big"]
