"""The composition's event handling, driven directly (no streams): an injected clock, a fake owner reader."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef, fingerprint
from server.watcher.detect import CRASH_LOOP, FREQUENT_RESTARTS, NOT_READY, OOM_KILLED, UNAVAILABLE_REPLICAS
from server.watcher.fold import OCCURRENCES_LABEL
from server.watcher.streams import StreamSpec
from server.watcher.watcher import DEPLOYMENT, NAMESPACE, POD, WATCH, Watcher, WatcherOptions
from tests.clocks import ManualClock
from tests.polling import eventually
from tests.server.watcher import objects as o
from tests.server.watcher.driving import drain, recheck_due

WEB = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
PODS = StreamSpec("pods", POD, lambda: None)
DEPLOYMENTS = StreamSpec("deployments", DEPLOYMENT, lambda: None)
WATCHES = StreamSpec("paramedicwatches", WATCH, lambda: None)
NAMESPACES = StreamSpec("namespaces", NAMESPACE, lambda: None)


def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
    """Every ReplicaSet `<deployment>-<hash>` is owned by `<deployment>`."""
    deployment = name.rsplit("-", 1)[0]
    return {
        "kind": kind,
        "metadata": {
            "name": name, "namespace": namespace, "uid": f"uid-{name}",
            "ownerReferences": [{"kind": "Deployment", "name": deployment, "controller": True}],
        },
    }  # fmt: skip


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(o.NOW)


def make(clock: ManualClock, settings: ScopeSettings | None = None, **options: Any) -> Watcher:
    return Watcher(
        k8s.ApiClient(k8s.Configuration()),
        settings or ScopeSettings(grace_period_seconds=60, restart_threshold=3),
        lambda incident: None,
        clock,
        options=WatcherOptions(**options),
        reader=read,
    )


def crashing(i: int, **kw: Any) -> dict[str, Any]:
    return o.pod(name=f"web-api-7d9f8c6b5-p{i}", containers=[o.crashloop_container(**kw)], ready=False)


def test_many_failing_pods_of_one_workload_become_one_incident(clock: ManualClock) -> None:
    watcher = make(clock)
    for i in range(12):
        watcher.on_event(PODS, "MODIFIED", crashing(i, last_reason="OOMKilled", exit_code=137))
    (incident,) = drain(watcher)
    assert incident.target == WEB and incident.reason == OOM_KILLED
    assert incident.labels[OCCURRENCES_LABEL] == "12"
    assert incident.labels["paramedic.dev/source"] == "Pod/web-api-7d9f8c6b5-p0"
    assert incident.labels["paramedic.dev/container"] == "app"
    assert incident.started_at == o.NOW


def test_healthy_pods_and_out_of_scope_namespaces_produce_nothing(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_list(
        PODS, [o.pod(), o.pod(name="x", namespace="kube-system", containers=[o.crashloop_container()])]
    )
    assert drain(watcher) == []


def test_excluded_workload_produces_nothing(clock: ManualClock) -> None:
    watcher = make(clock, ScopeSettings(exclude_workloads=["shop/deploy/web-*"]))
    watcher.on_event(PODS, "ADDED", crashing(0))
    assert drain(watcher) == []


def test_run_finished_starts_cooldown_and_a_persisting_failure_comes_back(clock: ManualClock) -> None:
    watcher = make(clock, cooldown_seconds=300)
    watcher.on_event(PODS, "MODIFIED", crashing(0))
    (first,) = drain(watcher)
    watcher.on_event(PODS, "MODIFIED", crashing(1))  # folded into the running one
    watcher.run_finished(first.fingerprint)
    watcher.on_event(PODS, "MODIFIED", crashing(2))  # cooling down
    assert drain(watcher) == []
    assert watcher._rechecks.pop_due(clock()) == []
    clock.advance(300)
    recheck_due(watcher, clock())
    (again,) = drain(watcher)
    assert again.fingerprint == first.fingerprint and again.id != first.id


def test_a_failure_healed_during_the_run_does_not_come_back(clock: ManualClock) -> None:
    watcher = make(clock, cooldown_seconds=300)
    watcher.on_event(PODS, "MODIFIED", crashing(0))
    (first,) = drain(watcher)
    watcher.on_event(PODS, "DELETED", crashing(0))  # the fix rolled the pod away
    watcher.on_event(PODS, "ADDED", o.pod(name="web-api-5c4b3a2-new", rs="web-api-5c4b3a2"))
    watcher.run_finished(first.fingerprint)
    clock.advance(300)
    recheck_due(watcher, clock())
    assert drain(watcher) == []


def test_not_ready_is_reported_when_the_grace_period_ends_without_another_event(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_event(
        PODS, "MODIFIED", o.pod(containers=[o.running_container(ready=False)], ready=False, ready_since=0)
    )
    assert drain(watcher) == []
    clock.advance(59)
    assert watcher._rechecks.pop_due(clock()) == []
    clock.advance(1)
    recheck_due(watcher, clock())
    (incident,) = drain(watcher)
    assert incident.reason == NOT_READY and incident.target == WEB


def test_restarts_over_the_threshold_within_the_window(clock: ManualClock) -> None:
    watcher = make(clock)
    old = {"started": 7200}
    watcher.on_event(PODS, "ADDED", o.pod(containers=[o.running_container(restarts=10)], **old))
    for restarts in (11, 12):
        clock.advance(30)
        watcher.on_event(PODS, "MODIFIED", o.pod(containers=[o.running_container(restarts=restarts)], **old))
    assert drain(watcher) == []
    clock.advance(30)
    watcher.on_event(PODS, "MODIFIED", o.pod(containers=[o.running_container(restarts=13)], **old))
    (incident,) = drain(watcher)
    assert incident.reason == FREQUENT_RESTARTS and "3 container restarts" in incident.summary


def test_paramedic_watch_lowers_the_threshold_and_labels_incidents(clock: ManualClock) -> None:
    watcher = make(clock)
    watch = {
        "kind": "ParamedicWatch",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {
            "targetRef": {"kind": "Deployment", "name": "web-api"},
            "restartThreshold": 1,
            "mode": "approve",
        },
    }
    watcher.on_event(WATCHES, "ADDED", watch)
    old = {"started": 7200}
    watcher.on_event(PODS, "ADDED", o.pod(containers=[o.running_container(restarts=10)], **old))
    clock.advance(5)
    watcher.on_event(PODS, "MODIFIED", o.pod(containers=[o.running_container(restarts=11)], **old))
    (incident,) = drain(watcher)
    assert incident.reason == FREQUENT_RESTARTS
    assert incident.labels["paramedic.dev/watch"] == "shop/web"
    assert incident.labels["paramedic.dev/mode"] == "approve"


def test_invalid_paramedic_watch_is_ignored(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_event(
        WATCHES, "ADDED", {"metadata": {"name": "w", "namespace": "shop"}, "spec": {"mode": "x"}}
    )
    assert watcher.scope.targets() == []


def test_deployment_unavailable_beyond_grace(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_event(DEPLOYMENTS, "MODIFIED", o.deployment(unavailable=1))  # still Available: first seen now
    assert drain(watcher) == []
    clock.advance(60)
    recheck_due(watcher, clock())
    (incident,) = drain(watcher)
    assert incident.reason == UNAVAILABLE_REPLICAS and incident.target == WEB


def test_deployment_recovering_within_grace_is_not_reported(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_event(DEPLOYMENTS, "MODIFIED", o.deployment(unavailable=1))
    clock.advance(30)
    watcher.on_event(DEPLOYMENTS, "MODIFIED", o.deployment(unavailable=0))
    clock.advance(30)
    recheck_due(watcher, clock())
    assert drain(watcher) == []


def test_namespace_selector_reevaluates_pods_seen_before_their_namespace(clock: ManualClock) -> None:
    watcher = make(clock, ScopeSettings(namespace_selector="paramedic.dev/enabled=true"))
    watcher.on_list(PODS, [crashing(0)])
    assert drain(watcher) == []
    namespace = {
        "kind": "Namespace",
        "metadata": {"name": "shop", "labels": {"paramedic.dev/enabled": "true"}},
    }
    watcher.on_event(NAMESPACES, "ADDED", namespace)
    recheck_due(watcher, clock())
    (incident,) = drain(watcher)
    assert incident.reason == CRASH_LOOP


def test_relist_forgets_objects_deleted_while_disconnected(clock: ManualClock) -> None:
    watcher = make(clock)
    watcher.on_list(PODS, [o.pod(name="a"), o.pod(name="b")])
    watcher.on_list(PODS, [o.pod(name="b")])
    assert set(watcher._objects) == {(POD, "shop", "b")}


def test_full_queue_drops_and_retries_later(clock: ManualClock) -> None:
    watcher = make(clock, queue_capacity=1, retry_seconds=5)
    watcher.on_event(PODS, "MODIFIED", crashing(0))
    other = o.pod(
        name="worker-6b5-a", rs="worker-6b5", template_hash="6b5", containers=[o.crashloop_container()]
    )
    watcher.on_event(PODS, "MODIFIED", other)
    assert watcher.stats().fold.dropped == 1
    assert [i.target.name for i in drain(watcher)] == ["web-api"]
    clock.advance(5)
    recheck_due(watcher, clock())
    assert [i.target.name for i in drain(watcher)] == ["worker"]


def test_stream_specs_follow_the_scope(clock: ManualClock) -> None:
    names = [s.name for s in make(clock).stream_specs()]
    assert names == [
        "pods", "deployments", "jobs", "persistentvolumeclaims", "services", "configmaps",
        "horizontalpodautoscalers", "ingresses",
        "applications", "kustomizations", "paramedicwatches",
    ]  # fmt: skip
    scoped = make(clock, ScopeSettings(namespaces=["shop", "billing"], namespace_selector="a=b"), flux=False)
    assert [s.name for s in scoped.stream_specs()] == [
        "pods/shop", "pods/billing", "deployments/shop", "deployments/billing", "jobs/shop", "jobs/billing",
        "persistentvolumeclaims/shop", "persistentvolumeclaims/billing", "services/shop", "services/billing",
        "configmaps/shop", "configmaps/billing",
        "horizontalpodautoscalers/shop", "horizontalpodautoscalers/billing",
        "ingresses/shop", "ingresses/billing", "namespaces",
        "applications", "paramedicwatches",
    ]  # fmt: skip


def _dispatching(watcher: Watcher) -> threading.Thread:
    thread = threading.Thread(target=watcher._dispatch, daemon=True)
    thread.start()
    return thread


def test_dispatcher_calls_on_incident_then_after_dispatch(clock: ManualClock) -> None:
    calls: list[str] = []
    done = threading.Event()
    watcher = Watcher(
        k8s.ApiClient(k8s.Configuration()), ScopeSettings(), lambda i: calls.append(f"run {i.reason}"), clock,
        reader=read, after_dispatch=lambda i: (calls.append(f"report {i.target.name}"), done.set()),
    )  # fmt: skip
    thread = _dispatching(watcher)
    watcher.on_event(PODS, "MODIFIED", crashing(0))
    assert done.wait(5)
    assert calls == ["run CrashLoopBackOff", "report web-api"]
    watcher.stop(timeout=5)
    thread.join(5)
    assert not thread.is_alive()


def test_a_failing_callback_ends_the_run_so_the_workload_is_not_stuck(clock: ManualClock) -> None:
    failed = threading.Event()

    def explode(incident: Incident) -> None:
        failed.set()
        raise RuntimeError("graph unavailable")

    watcher = Watcher(k8s.ApiClient(k8s.Configuration()), ScopeSettings(), explode, clock, reader=read)
    thread = _dispatching(watcher)
    watcher.on_event(PODS, "MODIFIED", crashing(0))
    assert failed.wait(5)
    assert eventually(lambda: watcher.stats().callback_errors == 1, timeout=5.0)
    assert not watcher.folder.is_active(fingerprint(WEB, CRASH_LOOP))
    watcher.stop(timeout=5)
    thread.join(5)


def test_services_wait_for_the_pod_listing_then_report_a_selector_matching_nothing(
    clock: ManualClock,
) -> None:
    # Streams start together: a Service listed before its pods must not look endpoint-less.
    watcher = make(clock)
    services = StreamSpec("services", "Service", lambda: None)
    redis = o.labelled(o.pod(name="redis-5c7d-abcde"), {"app.kubernetes.io/name": "redis"})
    healthy = o.service("redis", selector={"app.kubernetes.io/name": "redis"})
    broken = o.service("queue", selector={"app.kubernetes.io/name": "redis-primary"})
    watcher.on_list(services, [healthy, broken])
    assert drain(watcher) == []
    watcher.on_list(PODS, [redis])
    watcher.on_list(StreamSpec("deployments", DEPLOYMENT, lambda: None), [])
    watcher.on_list(StreamSpec("configmaps", "ConfigMap", lambda: None), [])
    recheck_due(watcher, clock())
    [incident] = drain(watcher)
    assert (incident.target.kind, incident.target.name) == ("Service", "queue")
    assert incident.reason == "ServiceSelectorMatchesNothing"
    watcher.on_event(PODS, "DELETED", redis)  # the healthy Service loses its only pod
    recheck_due(watcher, clock())
    assert [i.target.name for i in drain(watcher)] == ["redis"]


def _evicted(name: str, node: str, at: float = 30) -> dict[str, Any]:
    pod = o.evicted_pod()
    disruption = {"type": "DisruptionTarget", "status": "True", "lastTransitionTime": o.ago(at)}
    pod["status"]["conditions"] = [*pod["status"].get("conditions", []), disruption]
    rs = name.rsplit("-", 1)[0]
    pod["metadata"].update(name=name, uid=f"uid-{name}")
    pod["metadata"]["ownerReferences"][0].update(name=rs, uid=f"uid-{rs}")
    pod["spec"]["nodeName"] = node
    return pod


def test_pods_evicted_from_one_node_are_one_incident_on_the_first_evicted_workload(
    clock: ManualClock,
) -> None:
    watcher = make(clock)
    watcher.on_event(PODS, "MODIFIED", _evicted("web-api-7d9f8c6b5-p1", "node-a"))
    clock.advance(10)
    watcher.on_event(PODS, "MODIFIED", _evicted("postgres-5c7d9b8f6-p1", "node-a"))
    watcher.on_event(PODS, "MODIFIED", _evicted("worker-6b5d4c3a2-p1", "node-b"))
    targets = sorted(i.target.name for i in drain(watcher))
    assert targets == ["web-api", "worker"]  # postgres's eviction folds into node-a's incident


def test_evictions_from_a_node_after_the_window_are_a_new_incident(clock: ManualClock) -> None:
    watcher = make(clock, ScopeSettings(grace_period_seconds=60, restart_window_seconds=600))
    watcher.on_event(PODS, "MODIFIED", _evicted("web-api-7d9f8c6b5-p1", "node-a"))
    drain(watcher)
    clock.advance(3600)
    watcher.on_event(PODS, "MODIFIED", _evicted("postgres-5c7d9b8f6-p1", "node-a"))
    assert [i.target.name for i in drain(watcher)] == ["postgres"]


def test_a_listing_of_evicted_pods_makes_the_first_evicted_the_subject(clock: ManualClock) -> None:
    watcher = make(clock)
    early, late = (
        _evicted("worker-6b5d4c3a2-p1", "node-a", at=90),
        _evicted("postgres-5c7d9b8f6-p1", "node-a"),
    )
    watcher.on_list(PODS, [late, early])
    assert [i.target.name for i in drain(watcher)] == ["worker"]


def test_evictions_that_keep_coming_stay_one_incident(clock: ManualClock) -> None:
    watcher = make(clock, ScopeSettings(grace_period_seconds=60, restart_window_seconds=600))
    for i, name in enumerate(["web-api-7d9f8c6b5", "postgres-5c7d9b8f6", "worker-6b5d4c3a2"]):
        watcher.on_event(PODS, "MODIFIED", _evicted(f"{name}-p{i}", "node-a"))
        clock.advance(500)  # each within the window of the one before
    assert {i.target.name for i in drain(watcher)} == {"web-api"}


def test_an_ingress_on_a_port_its_service_lacks_is_an_incident_once_services_are_listed(
    clock: ManualClock,
) -> None:
    services, ingresses = (
        StreamSpec("services", "Service", lambda: None),
        StreamSpec("ingresses", "Ingress", lambda: None),
    )
    svc = o.service("web-api", selector={"app": "web-api"})
    svc["spec"]["ports"] = [{"name": "http", "port": 80, "targetPort": 8080}]
    backend = {"service": {"name": "web-api", "port": {"number": 8080}}}
    ingress = {"metadata": {"name": "shop", "namespace": "shop"}, "spec": {"defaultBackend": backend}}
    watcher = make(clock)
    watcher.on_list(ingresses, [ingress])
    assert drain(watcher) == []  # the Services are not listed yet
    watcher.on_list(services, [svc])
    clock.advance(10)
    recheck_due(watcher, clock.now)
    [incident] = drain(watcher)
    assert incident.target == WorkloadRef(namespace="shop", kind="Ingress", name="shop")
    assert incident.reason == "IngressPortNotExposed"
