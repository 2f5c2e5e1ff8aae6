"""`KubeCluster` against the sandbox: reads name the right object; writes go through the graph's
remediation policy as their guard and honour the server-side dry run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.domain import DirectPatch, Restart, Scale, WorkloadRef
from graph.cluster_access import KubeCluster
from graph.policies import RemediationPolicy
from sandbox.cluster import Sandbox
from tools.guard import deny_all
from tools.kubernetes import KubeClient
from tools.result import ToolStatus

TARGET = WorkloadRef(namespace="shop", name="joke-service")
AT = datetime(2024, 5, 1, tzinfo=UTC)


def _memory_patch(cluster: KubeCluster, memory: str) -> DirectPatch:
    """A limit change for the workload's first container (named as the live manifest names it)."""
    name = cluster.manifest(TARGET).data.body["spec"]["template"]["spec"]["containers"][0]["name"]
    container = {"name": name, "resources": {"limits": {"memory": memory}}}
    return DirectPatch(patch={"spec": {"template": {"spec": {"containers": [container]}}}})


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=3, background=False) as sb:
        sb.wait_healthy(timeout=30)
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        try:
            yield KubeCluster(kube)
        finally:
            kube.close()


def _generation(cluster: KubeCluster) -> int | None:
    return cluster.status(TARGET).data.generation  # type: ignore[union-attr]


def test_reads_describe_the_target(cluster: KubeCluster) -> None:
    status, manifest, history = cluster.status(TARGET), cluster.manifest(TARGET), cluster.history(TARGET)
    assert status.ok and status.data.name == "joke-service" and status.data.namespace == "shop"
    assert manifest.ok and manifest.data.body["metadata"]["name"] == "joke-service"
    assert history.ok and history.data.current_revision is not None and history.data.revisions


def test_dry_runs_change_nothing_and_a_denying_guard_sends_nothing(cluster: KubeCluster) -> None:
    before = _generation(cluster)
    guard = RemediationPolicy()
    patched = cluster.write(TARGET, _memory_patch(cluster, "96Mi"), guard, at=AT, dry_run=True)
    assert patched.ok, patched.error
    assert patched.data.dry_run and "96Mi" in patched.data.diff
    assert cluster.write(TARGET, Scale(replicas=2), guard, at=AT, dry_run=True).ok
    assert cluster.write(TARGET, Restart(), guard, at=AT, dry_run=True).ok
    assert _generation(cluster) == before, "a dry run must not persist anything"
    denied = cluster.write(TARGET, _memory_patch(cluster, "96Mi"), deny_all, at=AT, dry_run=False)
    assert denied.status is ToolStatus.DENIED and _generation(cluster) == before


def test_a_real_scale_reaches_the_deployment(cluster: KubeCluster) -> None:
    result = cluster.write(TARGET, Scale(replicas=3), RemediationPolicy(), at=AT, dry_run=False)
    assert result.ok, result.error
    assert cluster.manifest(TARGET).data.body["spec"]["replicas"] == 3
