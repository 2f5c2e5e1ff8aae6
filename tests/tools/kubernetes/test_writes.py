"""Writes against recorded API responses: the guard decides before anything is sent, patches use
the right patch type, dry runs ask the server for dryRun=All, and outcomes carry before/after."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.tools.kubernetes.builders import NS, deployment, oom_pod, replica_set
from tests.tools.kubernetes.conftest import Answer, FakeApi, Trace
from tools.guard import FieldAllowListGuard, GuardDecision, Verdict, WriteRequest
from tools.kubernetes.client import KubeClient
from tools.kubernetes.writes import (
    RESTART_ANNOTATION,
    delete_pod,
    patch_deployment,
    rollout_restart,
    rollout_undo,
    scale,
)
from tools.result import ToolStatus

APPS = f"/apis/apps/v1/namespaces/{NS}"
CORE = f"/api/v1/namespaces/{NS}"
DEPLOY = f"{APPS}/deployments/web"
MEMORY_PATCH = {
    "spec": {
        "template": {"spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}}
    }
}


class Recording:
    """A guard that records requests and answers a fixed verdict."""

    def __init__(self, verdict: Verdict = Verdict.ALLOW) -> None:
        self.verdict = verdict
        self.requests: list[WriteRequest] = []

    def __call__(self, request: WriteRequest) -> GuardDecision:
        self.requests.append(request)
        return GuardDecision(self.verdict, f"test says {self.verdict.value}")


def _patched(memory: str) -> dict:
    d = deployment()
    d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = memory
    return d


@pytest.mark.parametrize(
    ("verdict", "status"),
    [(Verdict.DENY, ToolStatus.DENIED), (Verdict.NEEDS_APPROVAL, ToolStatus.NEEDS_APPROVAL)],
)
def test_a_guard_that_does_not_allow_means_nothing_is_sent(
    fake_api: FakeApi, fake_kube: KubeClient, trace: Trace, verdict: Verdict, status: ToolStatus
) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment()))
    fake_api.on("PATCH", DEPLOY, Answer(200, _patched("512Mi")))
    fake_api.on("DELETE", f"{CORE}/pods/p", Answer(200, oom_pod()))
    guard = Recording(verdict)
    results = [
        patch_deployment(fake_kube, guard, NS, "web", MEMORY_PATCH, sink=trace),
        scale(fake_kube, guard, NS, "web", 3, sink=trace),
        rollout_restart(fake_kube, guard, NS, "web", sink=trace),
        delete_pod(fake_kube, guard, NS, "p", sink=trace),
    ]
    assert [r.status for r in results] == [status] * 4
    assert all("test says" in (r.error or "") for r in results)
    assert fake_api.requests("PATCH") == [] and fake_api.requests("DELETE") == []
    assert [e.status for e in trace.events] == [status] * 4
    assert [r.action for r in guard.requests] == ["patch", "scale", "restart", "delete_pod"]


def test_a_guard_that_raises_fails_closed(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    def broken(request: WriteRequest) -> GuardDecision:
        raise RuntimeError("policy file unreadable")

    result = patch_deployment(fake_kube, broken, NS, "web", MEMORY_PATCH)
    assert result.status is ToolStatus.DENIED
    assert "policy file unreadable" in (result.error or "")
    assert fake_api.requests() == []


def test_patch_is_strategic_merge_and_returns_before_after_and_diff(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment()))
    fake_api.on("PATCH", DEPLOY, Answer(200, _patched("512Mi")))
    result = patch_deployment(fake_kube, FieldAllowListGuard(), NS, "web", MEMORY_PATCH)
    assert result.ok, result.error
    [sent] = fake_api.requests("PATCH")
    assert sent.headers["content-type"] == "application/strategic-merge-patch+json"
    assert sent.json() == MEMORY_PATCH
    assert "dryRun" not in sent.query
    assert sent.query["fieldManager"] == ["paramedic"]
    out = result.data
    assert out is not None and out.changed and not out.dry_run
    assert "-            memory: 128Mi" in out.diff and "+            memory: 512Mi" in out.diff
    assert out.before["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "128Mi"


def test_dry_run_asks_the_server_for_dry_run_all(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment()))
    fake_api.on("PATCH", DEPLOY, Answer(200, _patched("512Mi")))
    result = patch_deployment(fake_kube, FieldAllowListGuard(), NS, "web", MEMORY_PATCH, dry_run=True)
    assert result.ok and result.data is not None and result.data.dry_run
    assert fake_api.requests("PATCH")[0].query["dryRun"] == ["All"]


def test_field_allow_list_denies_an_image_patch(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "evil:latest"}]}}}}
    result = patch_deployment(fake_kube, FieldAllowListGuard(), NS, "web", patch)
    assert result.status is ToolStatus.DENIED
    assert "image" in (result.error or "")
    assert fake_api.requests() == []


def test_scale_is_a_merge_patch_of_replicas(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment()))
    fake_api.on("PATCH", DEPLOY, Answer(200, deployment(replicas=3)))
    guard = Recording()
    result = scale(fake_kube, guard, NS, "web", 3)
    assert result.ok, result.error
    [sent] = fake_api.requests("PATCH")
    assert sent.headers["content-type"] == "application/merge-patch+json"
    assert sent.json() == {"spec": {"replicas": 3}}
    assert guard.requests[0].parameters == {"replicas": 3}
    assert guard.requests[0].patch == {"spec": {"replicas": 3}}


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_scale_rejects_bad_replica_counts(fake_kube: KubeClient, bad: object) -> None:
    with pytest.raises(ValueError):
        scale(fake_kube, Recording(), NS, "web", bad)  # type: ignore[arg-type]


def test_restart_stamps_the_annotation(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment()))
    fake_api.on("PATCH", DEPLOY, Answer(200, deployment()))
    now = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
    result = rollout_restart(fake_kube, Recording(), NS, "web", now=now)
    assert result.ok, result.error
    body = fake_api.requests("PATCH")[0].json()
    assert body == {
        "spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: "2024-05-02T10:00:00Z"}}}}
    }


def test_restart_of_a_paused_deployment_is_refused(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment(paused=True)))
    result = rollout_restart(fake_kube, Recording(), NS, "web")
    assert result.status is ToolStatus.ERROR and "paused" in (result.error or "")
    assert fake_api.requests("PATCH") == []


def _serve_history(api: FakeApi) -> None:
    api.on("GET", DEPLOY, Answer(200, deployment(revision=2, image="shop/web:1.2")))
    rss = [
        replica_set("web-old11", 1, "shop/web:1.1", change_cause="initial"),
        replica_set("web-abc12", 2, "shop/web:1.2", replicas=2),
    ]
    api.on("GET", f"{APPS}/replicasets", Answer(200, {"kind": "ReplicaSetList", "items": rss}))


def test_undo_copies_the_previous_template_without_hash_as_a_json_patch(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    _serve_history(fake_api)
    fake_api.on("PATCH", DEPLOY, Answer(200, deployment(revision=3)))
    guard = Recording()
    result = rollout_undo(fake_kube, guard, NS, "web")
    assert result.ok, result.error
    assert guard.requests[0].action == "rollback"
    assert guard.requests[0].parameters == {"revision": 1}
    [sent] = fake_api.requests("PATCH")
    assert sent.headers["content-type"] == "application/json-patch+json"
    ops = sent.json()
    assert [op["path"] for op in ops] == ["/spec/template", "/metadata/annotations"]
    template = ops[0]["value"]
    assert template["metadata"]["labels"] == {"app": "web"}
    assert template["spec"]["containers"][0]["image"] == "shop/web:1.1"
    annotations = ops[1]["value"]
    # kubectl keeps the Deployment's bookkeeping annotations and takes the rest from the ReplicaSet.
    assert annotations["deployment.kubernetes.io/revision"] == "2"
    assert annotations["kubernetes.io/change-cause"] == "initial"
    assert result.data is not None and result.data.note == "to revision 1"


def test_undo_to_an_unknown_revision_is_an_error(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    _serve_history(fake_api)
    result = rollout_undo(fake_kube, Recording(), NS, "web", to_revision=7)
    assert result.status is ToolStatus.ERROR
    assert "revision 7" in (result.error or "") and "known: 1, 2" in (result.error or "")
    assert fake_api.requests("PATCH") == []


def test_undo_to_the_running_template_sends_nothing(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", DEPLOY, Answer(200, deployment(revision=2)))
    rss = [replica_set("web-old11", 1, "shop/web:1.1"), replica_set("web-abc12", 2, "shop/web:1.1")]
    fake_api.on("GET", f"{APPS}/replicasets", Answer(200, {"kind": "ReplicaSetList", "items": rss}))
    result = rollout_undo(fake_kube, Recording(), NS, "web", to_revision=1)
    assert result.ok, result.error
    assert result.data is not None and not result.data.changed and "skipped rollback" in result.data.note
    assert fake_api.requests("PATCH") == []


def test_delete_pod_requires_a_controller(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    bare = oom_pod("bare")
    del bare["metadata"]["ownerReferences"]
    fake_api.on("GET", f"{CORE}/pods/bare", Answer(200, bare))
    result = delete_pod(fake_kube, Recording(), NS, "bare")
    assert result.status is ToolStatus.ERROR and "no controller" in (result.error or "")
    assert fake_api.requests("DELETE") == []


def test_delete_pod_dry_run(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", f"{CORE}/pods/web-abc12-xyz", Answer(200, oom_pod()))
    fake_api.on("DELETE", f"{CORE}/pods/web-abc12-xyz", Answer(200, oom_pod()))
    result = delete_pod(fake_kube, Recording(), NS, "web-abc12-xyz", dry_run=True)
    assert result.ok, result.error
    assert fake_api.requests("DELETE")[0].query["dryRun"] == ["All"]
    assert result.data is not None and result.data.after is None and result.data.note == "would be deleted"
