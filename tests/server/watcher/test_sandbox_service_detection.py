"""A Service relabelled to a selector no pod carries, in the sandbox: the watcher sees it from the
Service and the pods alone (no pod fails), and names the workload that reaches it."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from agent import incident_labels
from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef
from server.watcher.detect_dependants import DEPENDENCY_UNREACHABLE
from server.watcher.watcher import Watcher
from tests.sandboxes import running
from tests.server.watcher.driving import feed, specs_of, step

pytestmark = pytest.mark.e2e

KINDS = ("Pod", "Deployment", "Service", "ConfigMap")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sandbox.cluster import Sandbox

    with running(Sandbox(tmp_path_factory.mktemp("sandbox"), seed=17, background=False, serve=False)) as box:
        yield box


def _watcher(sandbox: Any) -> Watcher:
    from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, PODS, REPLICASETS, SERVICES

    def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return sandbox.store.find(REPLICASETS, namespace, name)

    settings = ScopeSettings(grace_period_seconds=60, restart_threshold=3)
    watcher = Watcher(
        k8s.ApiClient(k8s.Configuration()), settings, lambda i: None, sandbox.clock.now, reader=read
    )
    specs = specs_of(KINDS)
    for kind, rt in (
        ("ConfigMap", CONFIGMAPS),
        ("Pod", PODS),
        ("Deployment", DEPLOYMENTS),
        ("Service", SERVICES),
    ):
        items = [dict(obj, kind=kind) for obj in sandbox.store.list(rt, "shop")[0]]
        watcher.on_list(specs[kind], items)
    return watcher


def _run(sandbox: Any, watcher: Watcher, events: queue.Queue[Any], sim_seconds: float) -> list[Incident]:
    specs, incidents = specs_of(KINDS), []
    for _ in range(int(sim_seconds // 5)):
        sandbox.advance(5)
        feed(watcher, specs, events)
        incidents += step(watcher, sandbox.clock.now())
    return incidents


def test_healthy_shop_raises_nothing(sandbox: Any) -> None:
    watcher = _watcher(sandbox)
    events: queue.Queue[Any] = queue.Queue()
    sub = sandbox.store.subscribe(events.put)
    try:
        assert _run(sandbox, watcher, events, 180) == []
    finally:
        sandbox.store.unsubscribe(sub)


def test_a_selector_matching_no_pod_is_an_incident_on_its_dependant_naming_the_service(sandbox: Any) -> None:
    watcher = _watcher(sandbox)
    events: queue.Queue[Any] = queue.Queue()
    sub = sandbox.store.subscribe(events.put)
    try:
        sandbox.commit_patch(
            "Service shop/redis",
            {"spec": {"selector": {"app.kubernetes.io/name": "redis-primary"}}},
            "redis: select the primary only",
        )
        incidents = _run(sandbox, watcher, events, 240)
    finally:
        sandbox.store.unsubscribe(sub)
        sandbox.commit_patch(
            "Service shop/redis", {"spec": {"selector": {"app.kubernetes.io/name": "redis"}}}, "redis: revert"
        )
    by_target = {i.target: i for i in incidents}
    # The Service's failure is the worker's: one incident there, naming the Service and why.
    assert WorkloadRef(namespace="shop", kind="Service", name="redis") not in by_target
    worker = by_target[WorkloadRef(namespace="shop", kind="Deployment", name="worker")]
    assert worker.reason == DEPENDENCY_UNREACHABLE
    assert "redis-primary" in worker.summary
    assert worker.labels[incident_labels.DEPENDENCY] == "Service shop/redis"
    assert worker.labels[incident_labels.DEPENDENCY_STATE] == incident_labels.SELECTOR_MATCHES_NOTHING
    assert WorkloadRef(namespace="shop", kind="Deployment", name="redis") not in by_target  # redis is healthy
