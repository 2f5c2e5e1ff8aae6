"""The object store: server-set fields, optimistic concurrency, dry runs, ordered watch history."""

from __future__ import annotations

import random

import pytest

from sandbox.resources import DEPLOYMENTS, NODES, PODS
from sandbox.store import ApiError, Store, WatchEvent


def _pod(name: str = "web", ns: str = "shop") -> dict:
    return {"metadata": {"name": name, "namespace": ns, "labels": {"app": name}}, "spec": {"containers": []}}


def test_create_sets_server_fields_and_refuses_duplicates() -> None:
    store = Store()
    pod = store.create(PODS, _pod())
    meta = pod["metadata"]
    assert pod["apiVersion"] == "v1" and pod["kind"] == "Pod"
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z")
    assert meta["resourceVersion"] == "1" and meta["generation"] == 1
    with pytest.raises(ApiError) as info:
        store.create(PODS, _pod())
    assert info.value.code == 409 and info.value.reason == "AlreadyExists"
    assert info.value.status()["kind"] == "Status"


def test_create_validates_name_and_namespace() -> None:
    store = Store()
    with pytest.raises(ApiError) as no_name:
        store.create(PODS, {"metadata": {"namespace": "shop"}})
    assert no_name.value.code == 422
    with pytest.raises(ApiError) as no_ns:
        store.create(PODS, {"metadata": {"name": "x"}})
    assert no_ns.value.code == 400
    node = store.create(NODES, {"metadata": {"name": "n1", "namespace": "ignored"}})
    assert "namespace" not in node["metadata"]


def test_stale_update_conflicts_and_spec_change_bumps_generation() -> None:
    store = Store()
    created = store.create(
        DEPLOYMENTS, {"metadata": {"name": "d", "namespace": "a"}, "spec": {"replicas": 1}}
    )
    changed = dict(created, spec={"replicas": 2})
    updated = store.update(DEPLOYMENTS, changed)
    assert updated["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as info:
        store.update(DEPLOYMENTS, changed)  # still carries the old resourceVersion
    assert info.value.code == 409 and "has been modified" in info.value.message


def test_status_subresource_keeps_spec_and_main_resource_keeps_status() -> None:
    store = Store()
    dep = store.create(DEPLOYMENTS, {"metadata": {"name": "d", "namespace": "a"}, "spec": {"replicas": 1}})
    store.update(DEPLOYMENTS, dict(dep, spec={"replicas": 9}, status={"readyReplicas": 1}), status_only=True)
    after = store.get(DEPLOYMENTS, "a", "d")
    assert after["spec"] == {"replicas": 1} and after["status"] == {"readyReplicas": 1}
    store.update(DEPLOYMENTS, dict(after, status={"readyReplicas": 0}, metadata=dict(after["metadata"])))
    assert store.get(DEPLOYMENTS, "a", "d")["status"] == {"readyReplicas": 1}


def test_noop_update_does_not_bump_resource_version() -> None:
    store = Store()
    pod = store.create(PODS, _pod())
    again = store.update(PODS, pod)
    assert again["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]
    assert store.resource_version == 1


def test_dry_run_stores_nothing_and_emits_nothing() -> None:
    store = Store()
    events: list[WatchEvent] = []
    store.subscribe(events.append)
    store.create(PODS, _pod(), dry_run=True)
    assert store.find(PODS, "shop", "web") is None
    real = store.create(PODS, _pod())
    store.update(PODS, dict(real, spec={"containers": [{"name": "x"}]}), dry_run=True)
    store.delete(PODS, "shop", "web", dry_run=True)
    assert store.get(PODS, "shop", "web")["spec"] == {"containers": []}
    assert [e.type for e in events] == ["ADDED"]


def test_list_filters_by_namespace_and_predicate_and_returns_copies() -> None:
    store = Store()
    for ns, name in [("b", "y"), ("a", "x"), ("a", "z")]:
        store.create(PODS, _pod(name, ns))
    items, rv = store.list(PODS, namespace="a")
    assert [i["metadata"]["name"] for i in items] == ["x", "z"] and rv == 3
    items[0]["metadata"]["name"] = "mutated"
    assert store.get(PODS, "a", "x")["metadata"]["name"] == "x"
    only_y, _ = store.list(PODS, predicate=lambda o: o["metadata"]["name"] == "y")
    assert [i["metadata"]["namespace"] for i in only_y] == ["b"]


def test_watch_replays_history_after_a_version_in_order() -> None:
    store = Store()
    store.create(PODS, _pod("a"))
    second = store.create(PODS, _pod("b"))
    store.delete(PODS, "shop", "a")
    seen: list[WatchEvent] = []
    store.subscribe(seen.append, key=PODS.key, since_rv=1)
    store.create(PODS, _pod("c", "other"))
    assert [(e.type, e.obj["metadata"]["name"]) for e in seen] == [
        ("ADDED", "b"),
        ("DELETED", "a"),
        ("ADDED", "c"),
    ]
    assert [e.rv for e in seen] == sorted(e.rv for e in seen)
    assert seen[0].obj["metadata"]["resourceVersion"] == second["metadata"]["resourceVersion"]


def test_watch_filters_namespace_and_unsubscribes() -> None:
    store = Store()
    seen: list[WatchEvent] = []
    sub = store.subscribe(seen.append, key=PODS.key, namespace="shop")
    store.create(PODS, _pod("a", "other"))
    store.create(PODS, _pod("b", "shop"))
    store.unsubscribe(sub)
    store.create(PODS, _pod("c", "shop"))
    assert [e.obj["metadata"]["name"] for e in seen] == ["b"]


def test_watch_from_a_version_older_than_history_is_gone() -> None:
    store = Store(history=3)
    for i in range(6):
        store.create(PODS, _pod(f"p{i}"))
    with pytest.raises(ApiError) as info:
        store.subscribe(lambda e: None, since_rv=1)
    assert info.value.code == 410 and info.value.reason == "Expired"
    store.subscribe(lambda e: None, since_rv=4)  # still in history: fine


def test_seeded_rng_makes_uids_repeatable() -> None:
    def uid(seed: int) -> str:
        return Store(rng=random.Random(seed)).create(PODS, _pod())["metadata"]["uid"]

    assert uid(7) == uid(7)
    assert uid(7) != uid(8)
