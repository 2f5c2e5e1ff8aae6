"""kube-apiserver semantics beyond plain CRUD: watch details, validation, delete propagation,
strategic-merge directives, subresource rules and logs, over real HTTP."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from kubernetes import watch
from kubernetes.client.rest import ApiException

from sandbox.apiserver import watch as watch_module
from tests.polling import eventually
from tests.sandbox.apiserver_fixtures import Api, deployment, pod, serve

SMP = "application/strategic-merge-patch+json"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with serve(tmp_path) as running:
        yield running


def watch_lines(
    api: Api, path: str, params: dict, act: Callable[[], None], headers: dict | None = None
) -> list[dict]:
    """Open a raw watch, run `act` once it is established, and return every event until it times out."""
    events: list[dict] = []
    opened = threading.Event()

    def consume() -> None:
        with httpx.stream(
            "GET", f"{api.url}{path}", params={"watch": "1", **params}, headers=headers or {}, timeout=10
        ) as response:
            opened.set()
            for line in response.iter_lines():
                if line:
                    events.append(orjson.loads(line))

    thread = threading.Thread(target=consume)
    thread.start()
    assert opened.wait(5)
    time.sleep(0.1)  # the server subscribes before it sends the headers; leave a margin anyway
    act()
    thread.join(timeout=15)
    assert not thread.is_alive()
    return events


def names(events: list[dict]) -> list[str]:
    return [f"{e['type']}:{e['object']['metadata']['name']}" for e in events]


# --- watch ---------------------------------------------------------------------------------------


def test_a_label_selector_watch_sees_objects_enter_and_leave(api: Api) -> None:
    api.core.create_namespaced_pod("shop", pod("a", {"tier": "front"}))
    api.core.create_namespaced_pod("shop", pod("b", {"tier": "back"}))

    def act() -> None:
        api.core.patch_namespaced_pod("b", "shop", {"metadata": {"labels": {"tier": "front"}}})
        api.core.patch_namespaced_pod("a", "shop", {"metadata": {"labels": {"tier": "back"}}})
        api.core.patch_namespaced_pod("a", "shop", {"metadata": {"labels": {"x": "still-back"}}})
        api.core.patch_namespaced_pod("b", "shop", {"metadata": {"labels": {"x": "still-front"}}})
        api.core.delete_namespaced_pod("a", "shop")
        api.core.delete_namespaced_pod("b", "shop")

    events = watch_lines(
        api, "/api/v1/namespaces/shop/pods", {"labelSelector": "tier=front", "timeoutSeconds": "1"}, act
    )
    assert names(events) == ["ADDED:a", "ADDED:b", "DELETED:a", "MODIFIED:b", "DELETED:b"]


def test_a_resumed_selector_watch_knows_objects_untouched_since_its_version(api: Api) -> None:
    api.core.create_namespaced_pod("shop", pod("a", {"tier": "front"}))
    start = api.core.create_namespaced_pod("shop", pod("b", {"tier": "front"})).metadata.resource_version
    api.core.patch_namespaced_pod("a", "shop", {"metadata": {"labels": {"tier": "back"}}})
    events = watch_lines(
        api,
        "/api/v1/namespaces/shop/pods",
        {"labelSelector": "tier=front", "resourceVersion": start, "timeoutSeconds": "1"},
        lambda: api.core.patch_namespaced_pod("b", "shop", {"metadata": {"labels": {"tier": "back"}}}),
    )
    # `b` was visible at `start` (untouched since), so leaving the selector is a DELETED; `a`
    # changed after `start` and no longer matches: its state then is unknown, so it is not reported.
    assert names(events) == ["DELETED:b"]


def test_watch_as_table_sends_rows_with_columns_once(api: Api) -> None:
    api.core.create_namespaced_pod("shop", pod("a"))
    events = watch_lines(
        api,
        "/api/v1/namespaces/shop/pods",
        {"timeoutSeconds": "1"},
        lambda: api.core.create_namespaced_pod("shop", pod("b")),
        headers={"Accept": TABLE},
    )
    assert [e["type"] for e in events] == ["ADDED", "ADDED"]
    first, second = (e["object"] for e in events)
    assert first["kind"] == second["kind"] == "Table"
    assert [c["name"] for c in first["columnDefinitions"]][:5] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert second["columnDefinitions"] == []
    assert [r["cells"][:3] for r in (first["rows"][0], second["rows"][0])] == [
        ["a", "0/1", "Pending"],
        ["b", "0/1", "Pending"],
    ]
    assert second["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_bookmarks_carry_the_latest_version_when_asked_for(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_module, "BOOKMARK_SECONDS", 0.2)
    rv = api.core.create_namespaced_pod("shop", pod("a")).metadata.resource_version
    plain = httpx.get(
        f"{api.url}/api/v1/namespaces/shop/pods",
        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"},
        timeout=5,
    ).text
    assert plain == ""  # no events, no bookmarks unless asked
    started = time.monotonic()
    lines = httpx.get(
        f"{api.url}/api/v1/namespaces/shop/pods",
        params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1", "allowWatchBookmarks": "true"},
        timeout=5,
    ).text.splitlines()
    assert 0.9 < time.monotonic() - started < 3  # timeoutSeconds ends the stream
    marks = [orjson.loads(line) for line in lines]
    assert marks and all(m["type"] == "BOOKMARK" for m in marks)
    assert marks[0]["object"] == {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": rv}}


def test_a_client_leaving_drops_its_subscription(api: Api) -> None:
    def subscriptions() -> int:
        return len(api.store._subs)  # no public count: the leak this guards against is internal

    before = subscriptions()
    with httpx.stream("GET", f"{api.url}/api/v1/pods", params={"watch": "1"}, timeout=5) as response:
        assert response.status_code == 200
        eventually(lambda: subscriptions() != before, timeout=5, interval=0.02)
        assert subscriptions() == before + 1
    api.core.create_namespaced_pod("shop", pod("poke"))  # a write makes the server notice the hang-up
    assert eventually(lambda: subscriptions() == before, timeout=5), subscriptions()


def test_the_client_library_sees_410_when_resuming_too_far_back(api: Api) -> None:
    first = api.core.create_namespaced_pod("shop", pod("p0")).metadata.resource_version
    api.core.create_namespaced_pod("shop", pod("p1"))
    api.store._history.clear()  # as if the history had rolled over since `first`
    api.core.create_namespaced_pod("shop", pod("p2"))
    with pytest.raises(ApiException) as info:
        for _ in watch.Watch().stream(
            api.core.list_namespaced_pod, "shop", resource_version=first, timeout_seconds=1
        ):
            pass
    assert info.value.status == 410 and "too old resource version" in info.value.reason


def test_custom_resources_can_be_watched(api: Api) -> None:
    crd = {
        "metadata": {"name": "applications.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "scope": "Namespaced",
            "names": {"plural": "applications", "singular": "application", "kind": "Application"},
            "versions": [
                {"name": "v1alpha1", "served": True, "storage": True, "subresources": {"status": {}}}
            ],
        },
    }
    api.ext.create_custom_resource_definition(crd)
    args = ("argoproj.io", "v1alpha1", "shop", "applications")
    body = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "shop"}}

    def act() -> None:
        api.custom.create_namespaced_custom_object(*args, body)
        api.custom.patch_namespaced_custom_object_status(
            *args, "shop", {"status": {"sync": {"status": "Synced"}}}
        )
        api.custom.delete_namespaced_custom_object(*args, "shop")

    events = watch_lines(
        api, "/apis/argoproj.io/v1alpha1/namespaces/shop/applications", {"timeoutSeconds": "1"}, act
    )
    assert names(events) == ["ADDED:shop", "MODIFIED:shop", "DELETED:shop"]
    assert events[1]["object"]["status"] == {"sync": {"status": "Synced"}}
    smp = httpx.patch(
        f"{api.url}/apis/argoproj.io/v1alpha1/namespaces/shop/applications/shop",
        content=b"{}",
        headers={"content-type": SMP},
        timeout=5,
    )
    assert smp.status_code == 404  # deleted above; a strategic patch on a live one is 415:
    api.custom.create_namespaced_custom_object(*args, body)
    smp = httpx.patch(
        f"{api.url}/apis/argoproj.io/v1alpha1/namespaces/shop/applications/shop",
        content=b"{}",
        headers={"content-type": SMP},
        timeout=5,
    )
    assert smp.status_code == 415 and smp.json()["reason"] == "UnsupportedMediaType"


# --- validation ----------------------------------------------------------------------------------


def _invalid(call: Callable[[], object]) -> dict:
    with pytest.raises(ApiException) as info:
        call()
    assert info.value.status == 422, info.value.body
    body = orjson.loads(info.value.body)
    assert body["kind"] == "Status" and body["reason"] == "Invalid"
    return body


def test_invalid_objects_are_422_with_field_causes(api: Api) -> None:
    bad_name = pod("Web_1")
    body = _invalid(lambda: api.core.create_namespaced_pod("shop", bad_name))
    assert body["message"].startswith(
        'Pod "Web_1" is invalid: metadata.name: Invalid value: "Web_1": a lowercase'
    )
    assert body["details"]["causes"][0]["field"] == "metadata.name"

    mismatched = deployment()
    mismatched["spec"]["selector"] = {"matchLabels": {"app": "other"}}
    body = _invalid(lambda: api.apps.create_namespaced_deployment("shop", mismatched))
    assert "spec.template.metadata.labels: Invalid value" in body["message"]
    assert "`selector` does not match template `labels`" in body["message"]

    greedy = deployment()
    greedy["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"memory": "2Gi"},
        "limits": {"memory": "1Gi"},
    }
    greedy["spec"]["template"]["spec"]["containers"][1]["name"] = "app"
    body = _invalid(lambda: api.apps.create_namespaced_deployment("shop", greedy))
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields == [
        "spec.template.spec.containers[0].resources.requests",
        "spec.template.spec.containers[1].name",
    ]
    assert body["message"].startswith('Deployment.apps "web" is invalid: [')
    assert 'Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi' in body["message"]
    assert 'Duplicate value: "app"' in body["message"]
    assert api.apps.list_namespaced_deployment("shop").items == []

    junk = deployment()
    junk["spec"]["template"]["spec"]["containers"][0]["resources"] = {"limits": {"memory": "lots"}}
    with pytest.raises(ApiException) as info:
        api.apps.create_namespaced_deployment("shop", junk)
    assert info.value.status == 400 and "quantities must match" in info.value.body


def test_updates_may_not_change_immutable_fields(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", deployment())
    moved = {
        "spec": {
            "selector": {"matchLabels": {"app": "web", "v": "2"}},
            "template": {"metadata": {"labels": {"v": "2"}}},
        }
    }
    body = _invalid(lambda: api.apps.patch_namespaced_deployment("web", "shop", moved))
    assert "spec.selector: Invalid value" in body["message"] and "field is immutable" in body["message"]
    shrink = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "64Mi"}}}]}
            }
        }
    }
    assert api.apps.patch_namespaced_deployment("web", "shop", shrink).metadata.generation == 2

    api.core.create_namespaced_pod("shop", pod("p"))
    api.core.patch_namespaced_pod("p", "shop", {"spec": {"containers": [{"name": "c", "image": "i:2"}]}})
    resize = {"spec": {"containers": [{"name": "c", "resources": {"limits": {"memory": "1Gi"}}}]}}
    body = _invalid(lambda: api.core.patch_namespaced_pod("p", "shop", resize))
    assert "pod updates may not change fields other than" in body["message"]
    assert api.core.read_namespaced_pod("p", "shop").spec.containers[0].image == "i:2"


def test_scale_rejects_negative_replicas(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", deployment())
    _invalid(lambda: api.apps.patch_namespaced_deployment_scale("web", "shop", {"spec": {"replicas": -1}}))
    _invalid(lambda: api.apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": -1}}))
    assert api.apps.read_namespaced_deployment("web", "shop").spec.replicas == 1


# --- deletion ------------------------------------------------------------------------------------


def _owned_pod(name: str, owner) -> dict:
    body = pod(name)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": owner.metadata.name,
            "uid": owner.metadata.uid,
        }
    ]
    return body


def test_orphan_propagation_keeps_dependents_without_the_reference(api: Api) -> None:
    owner = api.apps.create_namespaced_deployment("shop", deployment())
    api.core.create_namespaced_pod("shop", _owned_pod("child", owner))
    api.apps.delete_namespaced_deployment("web", "shop", propagation_policy="Orphan")
    time.sleep(0.3)  # give the background collector its chance to (wrongly) act
    child = api.core.read_namespaced_pod("child", "shop")
    assert child.metadata.owner_references is None


def test_foreground_propagation_deletes_dependents_first(api: Api) -> None:
    owner = api.apps.create_namespaced_deployment("shop", deployment())
    api.core.create_namespaced_pod("shop", _owned_pod("child", owner))
    order: list[str] = []
    api.store.subscribe(lambda e: order.append(e.obj["metadata"]["name"]) if e.type == "DELETED" else None)
    api.apps.delete_namespaced_deployment("web", "shop", propagation_policy="Foreground")
    assert order == ["child", "web"]  # already gone when the call returns
    assert api.core.list_namespaced_pod("shop").items == []


def test_delete_preconditions_and_bad_policies(api: Api) -> None:
    created = api.apps.create_namespaced_deployment("shop", deployment())
    with pytest.raises(ApiException) as info:
        api.apps.delete_namespaced_deployment("web", "shop", body={"preconditions": {"uid": "someone-else"}})
    assert (
        info.value.status == 409
        and "Precondition failed: UID in precondition: someone-else" in info.value.body
    )
    with pytest.raises(ApiException) as info:
        api.apps.delete_namespaced_deployment("web", "shop", propagation_policy="Sometimes")
    assert info.value.status == 400
    api.apps.delete_namespaced_deployment(
        "web", "shop", body={"preconditions": {"uid": created.metadata.uid}}
    )
    assert api.apps.list_namespaced_deployment("shop").items == []


# --- patches, subresources, logs -----------------------------------------------------------------


def test_strategic_merge_directives_and_merge_keys(api: Api) -> None:
    dep = deployment()
    template = dep["spec"]["template"]["spec"]
    template["containers"][0].update(
        {
            "args": ["--a", "--b"],
            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 9090, "name": "metrics"}],
            "volumeMounts": [{"name": "cfg", "mountPath": "/etc/app"}],
        }
    )
    template["tolerations"] = [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}]
    template["volumes"] = [{"name": "cfg", "configMap": {"name": "cfg"}}]
    template["nodeSelector"] = {"disk": "ssd", "zone": "a"}
    api.apps.create_namespaced_deployment("shop", dep)
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "args": ["--c"],
                            "ports": [{"containerPort": 80, "name": "web"}],
                            "volumeMounts": [{"name": "cfg2", "mountPath": "/etc/app"}],
                            "$setElementOrder/ports": [{"containerPort": 80}, {"containerPort": 9090}],
                        }
                    ],
                    "tolerations": [{"key": "c", "operator": "Exists"}],
                    "nodeSelector": {"$patch": "replace", "disk": "hdd"},
                    "volumes": [{"name": "cfg", "$patch": "delete"}],
                }
            }
        }
    }
    out = api.apps.patch_namespaced_deployment("web", "shop", patch, _content_type=SMP)
    spec = out.spec.template.spec
    app = spec.containers[0]
    assert app.args == ["--c"]  # a list of scalars is replaced
    assert [(p.container_port, p.name) for p in app.ports] == [(80, "web"), (9090, "metrics")]
    assert [(m.name, m.mount_path) for m in app.volume_mounts] == [("cfg2", "/etc/app")]
    assert [t.key for t in spec.tolerations] == ["c"]  # no merge key in Kubernetes: replaced
    assert spec.node_selector == {"disk": "hdd"}
    assert not spec.volumes  # its one volume was deleted by key
    api.apps.patch_namespaced_deployment(
        "web",
        "shop",
        {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "$deleteFromPrimitiveList/args": ["--c"]}]}
                }
            }
        },
        _content_type=SMP,
    )
    assert not api.apps.read_namespaced_deployment("web", "shop").spec.template.spec.containers[0].args


def test_service_ports_merge_by_port(api: Api) -> None:
    service = {
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"port": 80, "name": "http"}, {"port": 443, "name": "https"}],
        },
    }
    created = api.core.create_namespaced_service("shop", service)
    assert created.spec.ports[0].target_port == 80 and created.spec.ports[0].protocol == "TCP"  # defaults
    out = api.core.patch_namespaced_service(
        "web", "shop", {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}, _content_type=SMP
    )
    assert [(p.port, p.target_port) for p in out.spec.ports] == [(80, 80), (443, 8443)]
    address = ipaddress.ip_address(created.spec.cluster_ip)
    assert address in ipaddress.ip_network("10.96.0.0/12") and created.spec.cluster_ips == [str(address)]
    assert out.spec.cluster_ip == created.spec.cluster_ip  # an update keeps the allocation
    api.core.delete_namespaced_service("web", "shop")
    again = api.core.create_namespaced_service("shop", service)
    assert again.spec.cluster_ip == created.spec.cluster_ip  # stable per name: re-applying is no change
    other = api.core.create_namespaced_service("shop", {**service, "metadata": {"name": "api"}})
    assert other.spec.cluster_ip != created.spec.cluster_ip


def test_subresources_refuse_the_wrong_methods(api: Api) -> None:
    api.apps.create_namespaced_deployment("shop", deployment())
    api.core.create_namespaced_pod("shop", pod("web"))
    base = f"{api.url}/apis/apps/v1/namespaces/shop/deployments/web"
    responses = [
        httpx.delete(f"{base}/status", timeout=5),
        httpx.put(f"{api.url}/api/v1/namespaces/shop/pods/web/log", content=b"{}", timeout=5),
        httpx.patch(
            f"{api.url}/api/v1/namespaces/shop/pods/web/log",
            content=b"{}",
            headers={"content-type": "application/merge-patch+json"},
            timeout=5,
        ),
        httpx.post(base, content=orjson.dumps(deployment()), timeout=5),
        httpx.put(f"{api.url}/apis/apps/v1/namespaces/shop/deployments", content=b"{}", timeout=5),
    ]
    for response in responses:
        assert response.status_code == 405, response.request.url
        assert response.json()["reason"] == "MethodNotAllowed"
    assert api.apps.read_namespaced_deployment("web", "shop").metadata.generation == 1
    assert httpx.get(f"{base}/nope", timeout=5).status_code == 404


def test_logs_honour_container_since_seconds_timestamps_and_limit_bytes(api: Api) -> None:
    api.core.create_namespaced_pod("shop", pod("web"))
    out = api.core.read_namespaced_pod_log("web", "shop", container="c", previous=True)
    assert out == "previous: boom\nprevious: Killed\n"
    assert api.logs.calls[-1] == ("shop", "web", "c", True)
    # The store's clock reads 1 h after the first line: lines 0..9 are 3600..3591 s old.
    assert api.core.read_namespaced_pod_log("web", "shop", since_seconds=3592) == "line 8\nline 9\n"
    stamped = api.core.read_namespaced_pod_log("web", "shop", tail_lines=2, timestamps=True)
    assert stamped.splitlines() == [
        "2026-01-01T00:00:08.000000Z line 8",
        "2026-01-01T00:00:09.000000Z line 9",
    ]
    assert api.core.read_namespaced_pod_log("web", "shop", limit_bytes=9) == "line 0\nli"
    with pytest.raises(ApiException) as info:
        api.core.read_namespaced_pod_log("ghost", "shop")
    assert info.value.status == 404 and orjson.loads(info.value.body)["message"] == 'pods "ghost" not found'


def test_dry_run_update_and_delete_collection_change_nothing(api: Api) -> None:
    api.core.create_namespaced_config_map("shop", {"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    events: list[str] = []
    api.store.subscribe(lambda e: events.append(e.type))
    current = api.core.read_namespaced_config_map("cfg", "shop")
    current.data = {"k": "changed"}
    preview = api.core.replace_namespaced_config_map("cfg", "shop", current, dry_run="All")
    assert preview.data == {"k": "changed"}
    api.core.delete_collection_namespaced_config_map("shop", dry_run="All")
    assert api.core.read_namespaced_config_map("cfg", "shop").data == {"k": "v"}
    assert events == []


def test_pods_get_requests_from_limits_and_their_qos_class(api: Api) -> None:
    guaranteed = pod("g")
    guaranteed["spec"]["containers"][0]["resources"] = {"limits": {"memory": "256Mi", "cpu": "500m"}}
    created = api.core.create_namespaced_pod("shop", guaranteed)
    assert created.spec.containers[0].resources.requests == {"memory": "256Mi", "cpu": "500m"}
    assert created.status.qos_class == "Guaranteed"
    burstable = pod("b")
    burstable["spec"]["containers"][0]["resources"] = {"requests": {"memory": "64Mi"}}
    assert api.core.create_namespaced_pod("shop", burstable).status.qos_class == "Burstable"
    assert api.core.create_namespaced_pod("shop", pod("e")).status.qos_class == "BestEffort"
