"""The evidence pipeline end to end on the full sandbox: inject a catalogue fault, read the
workload through the Kubernetes tools, pack it, and find the fault's symptoms in the evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox.cluster import Sandbox
from tools.evidence import render_workload
from tools.kubernetes import KubeClient, workload_events, workload_logs, workload_status

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
NS, APP = "shop", "web-api"


@pytest.fixture
def full_sandbox(tmp_path: Path) -> Iterator[Any]:
    """The full sandbox (sample apps via GitOps), stepped for determinism."""
    cluster = Sandbox(tmp_path / "sandbox", seed=3, nodes=2, background=False).start()
    try:
        cluster.wait_healthy(timeout=60)
        yield cluster
    finally:
        cluster.stop()


def _evidence(kube: KubeClient) -> Any:
    status = workload_status(kube, NS, "Deployment", APP)
    events = workload_events(kube, NS, "Deployment", APP)
    logs = workload_logs(kube, NS, "Deployment", APP, max_pods=2)
    for result in (status, events, logs):
        assert result.ok, result.error
    assert status.data is not None
    return render_workload(status.data, events.data or [], logs.data or [])


@pytest.mark.parametrize(
    ("fault", "symptoms"),
    [
        ("oom", ("OOMKilled", "exit=137", "CrashLoopBackOff", "BackOff")),
        ("missing_env", ("CrashLoopBackOff", "KeyError: ")),
    ],
)
def test_injected_fault_shows_in_the_packed_evidence(
    full_sandbox: Any, fault: str, symptoms: tuple[str, ...]
) -> None:
    full_sandbox.inject(fault, f"{NS}/deploy/{APP}")

    from sandbox.resources import PODS

    def crash_looping() -> bool:
        pods, _ = full_sandbox.store.list(PODS, namespace=NS)
        return any(
            (cs.get("restartCount") or 0) >= 2
            for p in pods
            if p["metadata"]["name"].startswith(APP)
            for cs in (p.get("status") or {}).get("containerStatuses") or []
        )

    assert full_sandbox.wait_for(crash_looping, 900, step=5.0), f"{fault} never made {APP} crash-loop"
    kube = KubeClient.from_config(full_sandbox.kubeconfig_path)
    try:
        evidence = _evidence(kube)
    finally:
        kube.close()
    for symptom in symptoms:
        assert symptom in evidence.text, f"{symptom!r} missing from:\n{evidence.text}"
    assert len(evidence.text) < 20_000
    for log in evidence.data["logs"]:
        assert len(log["text"]) <= 3000
    json.dumps(evidence.data)
