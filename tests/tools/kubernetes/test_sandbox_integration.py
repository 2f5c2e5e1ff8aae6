"""Every Kubernetes read and write against the sandbox cluster, through the official client and a
kubeconfig, as Paramedic uses them against a real cluster. Dry runs must leave nothing behind."""

from __future__ import annotations

from typing import Any

import pytest

from tests.tools.kubernetes.conftest import SandboxCluster, Trace, sandbox_deployment
from tools.guard import FieldAllowListGuard, GuardDecision, Verdict, WriteRequest
from tools.kubernetes import (
    RESTART_ANNOTATION,
    delete_pod,
    live_manifest,
    owner_chain,
    patch_deployment,
    pod_logs,
    pod_status,
    rollout_history,
    rollout_restart,
    rollout_undo,
    scale,
    workload_events,
    workload_logs,
    workload_status,
)
from tools.result import ToolStatus

pytestmark = pytest.mark.integration
NS = "shop"


def allow(request: WriteRequest) -> GuardDecision:
    return GuardDecision(Verdict.ALLOW, "test allows everything")


def deny(request: WriteRequest) -> GuardDecision:
    return GuardDecision(Verdict.DENY, "test denies everything")


def _memory_patch(memory: str) -> dict[str, Any]:
    return {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "web", "resources": {"limits": {"memory": memory}}}]}
            }
        }
    }


def _ready(cluster: SandboxCluster, name: str, replicas: int) -> bool:
    d = cluster.get("Deployment", NS, name) or {}
    status = d.get("status") or {}
    return (
        status.get("readyReplicas") == replicas
        and status.get("updatedReplicas") == replicas
        and status.get("replicas") == replicas
        and status.get("observedGeneration") == d["metadata"].get("generation")
    )


def _pods(cluster: SandboxCluster, name: str) -> list[dict[str, Any]]:
    return [p for p in cluster.list("Pod", NS) if p["metadata"]["name"].startswith(f"{name}-")]


def _healthy(cluster: SandboxCluster, name: str = "web", replicas: int = 2) -> None:
    cluster.create("Deployment", sandbox_deployment(name, replicas=replicas))
    assert cluster.wait(lambda: _ready(cluster, name, replicas)), "deployment never became ready"


def _oom(cluster: SandboxCluster, name: str = "oom") -> None:
    cluster.create("Deployment", sandbox_deployment(name, memory="4Mi", replicas=1))

    def crashed() -> bool:
        pods = _pods(cluster, name)
        return bool(pods) and all(
            (p["status"].get("containerStatuses") or [{}])[0].get("restartCount", 0) >= 2 for p in pods
        )

    assert cluster.wait(crashed), "the OOM deployment never crash-looped"


def _snapshot(cluster: SandboxCluster, name: str) -> tuple[Any, ...]:
    """Everything a write could change: the Deployment, its ReplicaSets and its pods."""
    d = cluster.get("Deployment", NS, name)
    assert d is not None
    # Generations, not resourceVersions: controllers keep rewriting the status of a crash-looping
    # workload, which bumps resourceVersion without anything having been written to the spec.
    rss = sorted(
        (r["metadata"]["name"], r["metadata"].get("generation"), r["spec"].get("replicas"))
        for r in cluster.list("ReplicaSet", NS)
    )
    pods = sorted(p["metadata"]["name"] for p in _pods(cluster, name))
    return d["metadata"]["generation"], d["spec"], rss, pods


# -- reads ------------------------------------------------------------------------------------------


def test_owner_chain_resolves_pod_to_deployment(sandbox: SandboxCluster, trace: Trace) -> None:
    _healthy(sandbox)
    pod = _pods(sandbox, "web")[0]["metadata"]["name"]
    result = owner_chain(sandbox.kube, NS, pod, sink=trace)
    assert result.ok, result.error
    chain = result.data
    assert chain is not None
    assert [r.kind for r in chain.chain] == ["Pod", "ReplicaSet", "Deployment"]
    assert chain.workload is not None and chain.workload.name == "web"
    assert all(r.found and r.uid for r in chain.chain)
    assert trace.events[0].tool == "kubernetes.owner_chain" and trace.events[0].status is ToolStatus.OK


def test_workload_status_of_a_healthy_and_an_oom_deployment(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    _oom(sandbox)
    healthy = workload_status(sandbox.kube, NS, "Deployment", "web").data
    assert healthy is not None
    assert (healthy.desired, healthy.ready, healthy.available) == (2, 2, 2)
    assert len(healthy.pods) == 2 and all(p.ready and p.phase == "Running" for p in healthy.pods)
    assert healthy.revision == 1

    result = workload_status(sandbox.kube, NS, "Deployment", "oom")
    assert result.ok, result.error
    oom = result.data
    assert oom is not None
    # No readiness probe: between OOM kills the container counts as ready, as on a real cluster.
    [pod] = oom.pods
    [container] = pod.containers
    assert container.restart_count >= 2
    assert container.last_termination is not None
    assert (container.last_termination.reason, container.last_termination.exit_code) == ("OOMKilled", 137)
    single = pod_status(sandbox.kube, NS, pod.name).data
    assert single is not None and single.containers[0].last_termination == container.last_termination


def test_events_newest_first_and_folded(sandbox: SandboxCluster) -> None:
    _oom(sandbox)
    result = workload_events(sandbox.kube, NS, "Deployment", "oom")
    assert result.ok, result.error
    events = result.data or []
    reasons = {e.reason for e in events}
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "BackOff"} <= reasons
    keys = [(e.involved_kind, e.involved_name, e.type, e.reason, e.message) for e in events]
    assert len(keys) == len(set(keys))  # folded: one record per distinct event
    assert any(e.count > 1 for e in events)
    assert all(e.involved_name.startswith("oom") for e in events)
    seen = [e.last_seen for e in events]
    assert seen == sorted(seen, reverse=True)


def test_logs_current_and_previous_with_tail_cap(sandbox: SandboxCluster) -> None:
    _oom(sandbox)
    pod = _pods(sandbox, "oom")[0]["metadata"]["name"]
    result = pod_logs(sandbox.kube, NS, pod, tail_lines=2)
    assert result.ok, result.error
    logs = result.data
    assert logs is not None
    current, previous = logs.get("web"), logs.get("web", previous=True)
    assert current is not None and previous is not None  # restarted, so the previous log is fetched
    assert previous.available and previous.text
    assert len(previous.lines) <= 2 and len(current.lines) <= 2

    _healthy(sandbox)
    fresh = _pods(sandbox, "web")[0]["metadata"]["name"]
    forced = pod_logs(sandbox.kube, NS, fresh, previous=True).data
    assert forced is not None
    missing = forced.get("web", previous=True)
    assert missing is not None and not missing.available and missing.note  # the server's reason
    many = workload_logs(sandbox.kube, NS, "Deployment", "web", max_pods=1).data
    assert many is not None and len(many) == 1 and many[0].logs[0].text


def test_live_manifest_is_cleaned(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    result = live_manifest(sandbox.kube, NS, "Deployment", "web")
    assert result.ok, result.error
    body = result.data.body if result.data else {}
    assert "status" not in body
    assert not {"managedFields", "uid", "resourceVersion", "creationTimestamp", "generation"} & set(
        body["metadata"]
    )
    assert "deployment.kubernetes.io/revision" not in (body["metadata"].get("annotations") or {})
    assert body["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert body["spec"]["selector"] == {"matchLabels": {"app": "web"}}


def test_missing_objects_are_errors_not_exceptions(sandbox: SandboxCluster) -> None:
    for result in (
        workload_status(sandbox.kube, NS, "Deployment", "ghost"),
        owner_chain(sandbox.kube, NS, "ghost-pod"),
        rollout_history(sandbox.kube, NS, "ghost"),
    ):
        assert result.status is ToolStatus.ERROR
        assert "not found" in (result.error or "")


# -- writes -----------------------------------------------------------------------------------------


def test_patch_dry_run_leaves_nothing_then_the_real_patch_heals_the_oom(sandbox: SandboxCluster) -> None:
    _oom(sandbox)
    before = _snapshot(sandbox, "oom")
    dry = patch_deployment(
        sandbox.kube, FieldAllowListGuard(), NS, "oom", _memory_patch("64Mi"), dry_run=True
    )
    assert dry.ok, dry.error
    assert dry.data is not None and dry.data.changed and "memory: 64Mi" in dry.data.diff
    sandbox.settle(30)
    assert _snapshot(sandbox, "oom")[:3] == before[:3]  # nothing persisted, no new ReplicaSet

    real = patch_deployment(sandbox.kube, FieldAllowListGuard(), NS, "oom", _memory_patch("64Mi"))
    assert real.ok, real.error
    assert real.data is not None and real.data.after is not None
    container = real.data.after["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "64Mi"
    assert sandbox.wait(lambda: _ready(sandbox, "oom", 1)), "the corrected memory limit did not heal the pods"


def test_denied_patch_sends_nothing(sandbox: SandboxCluster, trace: Trace) -> None:
    _healthy(sandbox)
    before = _snapshot(sandbox, "web")
    result = patch_deployment(sandbox.kube, deny, NS, "web", _memory_patch("1Gi"), sink=trace)
    assert result.status is ToolStatus.DENIED
    assert _snapshot(sandbox, "web") == before
    assert trace.events[0].status is ToolStatus.DENIED


def test_scale_dry_run_then_real(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    before = _snapshot(sandbox, "web")
    dry = scale(sandbox.kube, allow, NS, "web", 3, dry_run=True)
    assert dry.ok, dry.error
    assert dry.data is not None and dry.data.after is not None and dry.data.after["spec"]["replicas"] == 3
    sandbox.settle(30)
    assert _snapshot(sandbox, "web") == before

    real = scale(sandbox.kube, allow, NS, "web", 3)
    assert real.ok, real.error
    assert sandbox.wait(lambda: _ready(sandbox, "web", 3))
    assert len(_pods(sandbox, "web")) == 3


def test_restart_dry_run_then_real_rolls_new_pods(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    before = _snapshot(sandbox, "web")
    old_pods = set(before[3])
    dry = rollout_restart(sandbox.kube, allow, NS, "web", dry_run=True)
    assert dry.ok, dry.error
    sandbox.settle(30)
    assert _snapshot(sandbox, "web") == before

    real = rollout_restart(sandbox.kube, allow, NS, "web")
    assert real.ok, real.error
    d = sandbox.get("Deployment", NS, "web")
    assert d is not None and RESTART_ANNOTATION in d["spec"]["template"]["metadata"]["annotations"]

    def replaced() -> bool:
        names = {
            p["metadata"]["name"] for p in _pods(sandbox, "web") if not p["metadata"].get("deletionTimestamp")
        }
        return _ready(sandbox, "web", 2) and not (names & old_pods)

    assert sandbox.wait(replaced), "the restart did not replace the pods"
    history = rollout_history(sandbox.kube, NS, "web").data
    assert history is not None and [r.revision for r in history.revisions] == [1, 2]


def test_history_and_undo_dry_run_then_real(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    assert patch_deployment(sandbox.kube, allow, NS, "web", _memory_patch("96Mi")).ok
    assert sandbox.wait(lambda: _ready(sandbox, "web", 2))

    result = rollout_history(sandbox.kube, NS, "web")
    assert result.ok, result.error
    history = result.data
    assert history is not None
    assert [r.revision for r in history.revisions] == [1, 2] and history.current_revision == 2
    first = history.get(1)
    assert first is not None and not first.current
    assert first.template["spec"]["containers"][0]["resources"]["limits"]["memory"] == "64Mi"
    assert "pod-template-hash" not in first.template["metadata"]["labels"]

    before = _snapshot(sandbox, "web")
    dry = rollout_undo(sandbox.kube, allow, NS, "web", dry_run=True)
    assert dry.ok, dry.error
    assert dry.data is not None and "memory: 64Mi" in dry.data.diff and dry.data.note == "to revision 1"
    sandbox.settle(30)
    assert _snapshot(sandbox, "web") == before

    real = rollout_undo(sandbox.kube, allow, NS, "web", to_revision=1)
    assert real.ok, real.error
    assert sandbox.wait(lambda: _ready(sandbox, "web", 2))
    d = sandbox.get("Deployment", NS, "web")
    assert d is not None
    assert d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "64Mi"
    after = rollout_history(sandbox.kube, NS, "web").data
    assert (
        after is not None and after.current_revision == 3
    )  # like kubectl: the old revision becomes the newest

    again = rollout_undo(sandbox.kube, allow, NS, "web", to_revision=3)
    assert again.ok and again.data is not None and not again.data.changed  # already running it


def test_delete_pod_dry_run_then_real_is_replaced(sandbox: SandboxCluster) -> None:
    _healthy(sandbox)
    victim = _pods(sandbox, "web")[0]["metadata"]["name"]
    dry = delete_pod(sandbox.kube, allow, NS, victim, dry_run=True)
    assert dry.ok, dry.error
    sandbox.settle(30)
    assert sandbox.get("Pod", NS, victim) is not None

    real = delete_pod(sandbox.kube, allow, NS, victim)
    assert real.ok, real.error

    def replaced() -> bool:
        names = {p["metadata"]["name"] for p in _pods(sandbox, "web")}
        return victim not in names and _ready(sandbox, "web", 2)

    assert sandbox.wait(replaced), "the deleted pod was not replaced"
