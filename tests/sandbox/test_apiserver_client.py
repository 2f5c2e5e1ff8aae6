"""The official `kubernetes` client against the sandbox API server, over real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from sandbox.apiserver import ApiServer
from sandbox.resources import NAMESPACES, Registry
from sandbox.store import Store
from tests.polling import eventually
from tests.sandbox.apiserver_fixtures import Api, serve
from tests.sandbox.apiserver_fixtures import deployment as _deployment
from tests.sandbox.apiserver_fixtures import pod as _pod


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serve(tmp_path) as running:
        yield running


def test_create_get_list_with_selectors_and_defaults(api: Api) -> None:
    created = api.apps.create_namespaced_deployment("shop", _deployment())
    assert created.metadata.uid and created.metadata.generation == 1
    assert created.spec.strategy.rolling_update.max_surge == "25%"
    assert created.spec.template.spec.containers[0].image_pull_policy == "IfNotPresent"
    for name, tier in (("a", "front"), ("b", "back"), ("c", "front")):
        api.core.create_namespaced_pod("shop", _pod(name, {"tier": tier}))
    front = api.core.list_namespaced_pod("shop", label_selector="tier=front")
    assert [p.metadata.name for p in front.items] == ["a", "c"]
    not_a = api.core.list_pod_for_all_namespaces(field_selector="metadata.name!=a")
    assert [p.metadata.name for p in not_a.items] == ["b", "c"]
    page = api.core.list_namespaced_pod("shop", limit=2)
    assert len(page.items) == 2 and page.metadata._continue
    rest = api.core.list_namespaced_pod("shop", limit=2, _continue=page.metadata._continue)
    assert [p.metadata.name for p in rest.items] == ["c"]


def test_errors_are_status_objects_with_the_right_codes(api: Api) -> None:
    with pytest.raises(ApiException) as missing:
        api.apps.read_namespaced_deployment("nope", "shop")
    assert missing.value.status == 404 and '"reason":"NotFound"' in missing.value.body.replace(" ", "")
    api.core.create_namespaced_pod("shop", _pod("a"))
    with pytest.raises(ApiException) as dup:
        api.core.create_namespaced_pod("shop", _pod("a"))
    assert dup.value.status == 409
    with pytest.raises(ApiException) as no_ns:
        api.core.create_namespaced_pod("ghost", _pod("a"))
    assert no_ns.value.status == 404
    bad = httpx.post(f"{api.url}/api/v1/namespaces/shop/pods", content=b"{not json", timeout=5)
    assert bad.status_code == 400 and bad.json()["kind"] == "Status"
    unknown = httpx.get(f"{api.url}/apis/nope.example.com/v1/widgets", timeout=5)
    assert unknown.status_code == 404


def test_update_with_a_stale_resource_version_conflicts(api: Api) -> None:
    first = api.apps.create_namespaced_deployment("shop", _deployment())
    first.spec.replicas = 2
    api.apps.replace_namespaced_deployment("web", "shop", first)
    first.spec.replicas = 3  # still carries the old resourceVersion
    with pytest.raises(ApiException) as info:
        api.apps.replace_namespaced_deployment("web", "shop", first)
    assert info.value.status == 409 and "the object has been modified" in info.value.body
    assert api.apps.read_namespaced_deployment("web", "shop").spec.replicas == 2


def test_strategic_merge_patch_merges_containers_and_env_by_name(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", _deployment())
    patch = {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "resources": {"limits": {"memory": "512Mi"}}, "env": [{"name": "B", "value": "2"}]}
    ]}}}}  # fmt: skip
    out = api.apps.patch_namespaced_deployment(
        "web", "shop", patch, _content_type="application/strategic-merge-patch+json"
    )
    containers = out.spec.template.spec.containers
    assert [c.name for c in containers] == ["app", "sidecar"]
    assert containers[0].resources.limits == {"memory": "512Mi"}
    assert [(e.name, e.value) for e in containers[0].env] == [("A", "1"), ("B", "2")]
    assert out.metadata.generation == 2
    delete = {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}}
    out = api.apps.patch_namespaced_deployment(
        "web", "shop", delete, _content_type="application/strategic-merge-patch+json"
    )
    assert [c.name for c in out.spec.template.spec.containers] == ["app"]


def test_merge_patch_replaces_lists_and_json_patch_applies_operations(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", _deployment())
    merged = api.apps.patch_namespaced_deployment(
        "web",
        "shop",
        {"metadata": {"labels": {"team": "x", "app": None}}},
        _content_type="application/merge-patch+json",
    )
    assert merged.metadata.labels == {"team": "x"}
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 4},
        {"op": "test", "path": "/spec/replicas", "value": 4},
    ]
    out = api.apps.patch_namespaced_deployment(
        "web", "shop", ops, _content_type="application/json-patch+json"
    )
    assert out.spec.replicas == 4
    with pytest.raises(ApiException) as failed_test:
        api.apps.patch_namespaced_deployment(
            "web",
            "shop",
            [{"op": "test", "path": "/spec/replicas", "value": 9}],
            _content_type="application/json-patch+json",
        )
    assert failed_test.value.status == 422
    unsupported = httpx.patch(
        f"{api.url}/apis/apps/v1/namespaces/shop/deployments/web",
        content=b"{}",
        headers={"content-type": "application/x-yaml-patch"},
        timeout=5,
    )
    assert unsupported.status_code == 415


def test_dry_run_leaves_nothing_behind(api: Api) -> None:
    events: list[str] = []
    api.store.subscribe(lambda e: events.append(e.type))
    created = api.apps.create_namespaced_deployment("shop", _deployment(), dry_run="All")
    assert created.metadata.name == "web"
    with pytest.raises(ApiException):
        api.apps.read_namespaced_deployment("web", "shop")
    api.apps.create_namespaced_deployment("shop", _deployment())
    before = api.apps.read_namespaced_deployment("web", "shop")
    api.apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 7}}, dry_run="All")
    api.apps.delete_namespaced_deployment("web", "shop", dry_run="All")
    after = api.apps.read_namespaced_deployment("web", "shop")
    assert after.spec.replicas == 1 and after.metadata.resource_version == before.metadata.resource_version
    assert events == ["ADDED"]


def test_scale_and_status_subresources(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", _deployment())
    scale = api.apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert api.apps.read_namespaced_deployment_scale("web", "shop").spec.replicas == 3
    status = {"status": {"readyReplicas": 3, "replicas": 3}, "spec": {"replicas": 99}}
    api.apps.patch_namespaced_deployment_status("web", "shop", status)
    dep = api.apps.read_namespaced_deployment("web", "shop")
    assert dep.status.ready_replicas == 3 and dep.spec.replicas == 3  # the status write left spec alone


def test_pod_logs_current_previous_tail_and_errors(api: Api) -> None:
    api.core.create_namespaced_pod("shop", _pod("web"))
    api.core.create_namespaced_pod("shop", _pod("pending"))
    assert api.core.read_namespaced_pod_log("web", "shop", tail_lines=2) == "line 8\nline 9\n"
    assert "previous: Killed" in api.core.read_namespaced_pod_log("web", "shop", previous=True)
    stamped = api.core.read_namespaced_pod_log("web", "shop", tail_lines=1, timestamps=True)
    assert stamped.startswith("2026-01-01T00:00:09")
    with pytest.raises(ApiException) as info:
        api.core.read_namespaced_pod_log("pending", "shop")
    assert info.value.status == 400 and "does not have a host assigned" in info.value.body


def test_watch_resumes_from_a_resource_version_and_410s_when_too_old(api: Api) -> None:
    first = api.core.create_namespaced_pod("shop", _pod("a"))
    api.core.create_namespaced_pod("shop", _pod("b"))
    api.core.delete_namespaced_pod("a", "shop")
    seen = []
    for event in watch.Watch().stream(
        api.core.list_namespaced_pod,
        "shop",
        resource_version=first.metadata.resource_version,
        timeout_seconds=1,
    ):
        seen.append((event["type"], event["object"].metadata.name))
    assert seen == [("ADDED", "b"), ("DELETED", "a")]

    small = Store(history=2)
    small.create(NAMESPACES, {"metadata": {"name": "shop"}})
    for i in range(5):
        small.create(NAMESPACES, {"metadata": {"name": f"n{i}"}})
    server = ApiServer(small, Registry.with_builtins())
    url = server.start()
    try:
        lines = httpx.get(
            f"{url}/api/v1/namespaces?watch=1&resourceVersion=1&timeoutSeconds=1", timeout=5
        ).text
        assert '"type":"ERROR"' in lines and '"code":410' in lines
    finally:
        server.stop()


def test_watch_delivers_live_events_and_bookmarks(api: Api) -> None:
    received: list[str] = []

    def consume() -> None:
        for event in watch.Watch().stream(api.core.list_namespaced_pod, "shop", timeout_seconds=2):
            received.append(f"{event['type']}:{event['object'].metadata.name}")

    api.core.create_namespaced_pod("shop", _pod("existing"))
    thread = threading.Thread(target=consume)
    thread.start()
    time.sleep(0.3)
    api.core.create_namespaced_pod("shop", _pod("live"))
    api.core.patch_namespaced_pod("live", "shop", {"metadata": {"labels": {"x": "y"}}})
    thread.join(timeout=10)
    assert received == ["ADDED:existing", "ADDED:live", "MODIFIED:live"]


def test_custom_resources_after_their_crd(api: Api) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "paramedicwatches.paramedic.dev"},
        "spec": {
            "group": "paramedic.dev",
            "scope": "Namespaced",
            "names": {"plural": "paramedicwatches", "singular": "paramedicwatch", "kind": "ParamedicWatch",
                      "shortNames": ["pmw"]},
            "versions": [{"name": "v1alpha1", "served": True, "storage": True, "subresources": {"status": {}},
                          "schema": {"openAPIV3Schema": {"type": "object",
                                                         "x-kubernetes-preserve-unknown-fields": True}}}],
        },
    }  # fmt: skip
    args = ("paramedic.dev", "v1alpha1", "shop", "paramedicwatches")
    with pytest.raises(ApiException):
        api.custom.list_namespaced_custom_object(*args)
    api.ext.create_custom_resource_definition(crd)
    body = {"apiVersion": "paramedic.dev/v1alpha1", "kind": "ParamedicWatch", "metadata": {"name": "w"},
            "spec": {"mode": "report"}}  # fmt: skip
    api.custom.create_namespaced_custom_object(*args, body)
    api.custom.patch_namespaced_custom_object(*args, "w", {"spec": {"mode": "autonomous"}})
    api.custom.patch_namespaced_custom_object_status(*args, "w", {"status": {"phase": "Healthy"}})
    got = api.custom.get_namespaced_custom_object(*args, "w")
    assert got["spec"]["mode"] == "autonomous" and got["status"]["phase"] == "Healthy"
    assert [i["metadata"]["name"] for i in api.custom.list_namespaced_custom_object(*args)["items"]] == ["w"]
    discovery = httpx.get(f"{api.url}/apis/paramedic.dev/v1alpha1", timeout=5).json()
    assert discovery["resources"][0]["shortNames"] == ["pmw"]
    api.custom.delete_namespaced_custom_object(*args, "w")
    api.ext.delete_custom_resource_definition("paramedicwatches.paramedic.dev")
    with pytest.raises(ApiException) as gone:
        api.custom.list_namespaced_custom_object(*args)
    assert gone.value.status == 404


def test_deleting_an_owner_collects_its_dependents(api: Api) -> None:
    owner = api.apps.create_namespaced_deployment("shop", _deployment())
    ref = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "web",
        "uid": owner.metadata.uid,
        "controller": True,
    }
    dependent = _pod("child")
    dependent["metadata"]["ownerReferences"] = [ref]
    api.core.create_namespaced_pod("shop", dependent)
    api.core.create_namespaced_pod("shop", _pod("orphan"))
    api.apps.delete_namespaced_deployment("web", "shop")

    def names() -> list[str]:
        return [p.metadata.name for p in api.core.list_namespaced_pod("shop").items]

    assert eventually(lambda: names() == ["orphan"], timeout=5), names()


def test_deleting_a_namespace_removes_its_objects(api: Api) -> None:
    api.core.create_namespace({"metadata": {"name": "tmp"}})
    api.core.create_namespaced_config_map("tmp", {"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    api.core.delete_namespace("tmp")
    assert api.core.list_config_map_for_all_namespaces().items == []


def test_discovery_version_and_metrics(api: Api) -> None:
    assert client.VersionApi(api.client).get_code().git_version.startswith("v1.32")
    groups = {g.name for g in client.ApisApi(api.client).get_api_versions().groups}
    assert {"apps", "coordination.k8s.io", "rbac.authorization.k8s.io", "apiextensions.k8s.io"} <= groups
    resources = {r.name for r in api.core.get_api_resources().resources}
    assert {
        "pods",
        "pods/log",
        "events",
        "configmaps",
        "secrets",
        "serviceaccounts",
        "namespaces",
    } <= resources
    assert httpx.get(f"{api.url}/metrics", timeout=5).text == "up 1\n"
