"""A Service with no endpoints and the workloads that reach it: one incident per fault, on the object
an investigation can read and fix, carrying the related objects as labels."""

from __future__ import annotations

from typing import Any

from agent import incident_labels
from agent.domain import WorkloadRef
from server.watcher.detect import Detection, DetectPolicy
from server.watcher.detect_dependants import DEPENDENCY_UNREACHABLE
from server.watcher.detect_service import SCALED_TO_ZERO, SELECTOR_MATCHES_NOTHING
from server.watcher.service_watch import Key, NamespaceIndex, Neighbours, service_detection, unserved_zero
from tests.server.watcher import objects as o

POLICY = DetectPolicy(grace_seconds=60)
APP = {"app.kubernetes.io/name": "redis"}


def _worker(url: str = "redis://redis.shop:6379/0") -> o.Obj:
    d = o.with_template(o.deployment("worker", replicas=1), {"app": "worker"})
    d["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "QUEUE_URL", "value": url}]
    return d


def _detect(service: o.Obj, *objects: tuple[str, o.Obj]) -> Any:
    index, store = NamespaceIndex(), {}
    for kind in ("Pod", "Deployment", "ConfigMap"):
        index.mark_listed(kind, None)
    for kind, obj in objects:
        key: Key = (kind, "shop", obj["metadata"]["name"])
        index.add(key)
        store[key] = obj
    return service_detection(service, Neighbours("shop", index, store.get), o.NOW, POLICY)


def test_a_deployment_at_zero_that_others_reach_is_one_incident_naming_them() -> None:
    redis = o.with_template(o.deployment("redis", replicas=0), APP)
    found = _detect(o.service("redis", selector=APP), ("Deployment", redis), ("Deployment", _worker()))
    [finding] = found.findings
    assert finding.reason == SCALED_TO_ZERO
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="redis")
    assert dict(finding.labels) == {incident_labels.DEPENDANTS: "Deployment shop/worker"}
    assert "Deployment shop/worker" in finding.message


def test_a_deployment_at_zero_nobody_reaches_carries_no_dependants() -> None:
    redis = o.with_template(o.deployment("redis", replicas=0), APP)
    [finding] = _detect(o.service("redis", selector=APP), ("Deployment", redis)).findings
    assert finding.reason == SCALED_TO_ZERO and finding.labels == ()


def test_a_selector_matching_nothing_is_its_dependants_incident_naming_the_service() -> None:
    redis = o.with_template(o.deployment("redis"), APP)
    pod = o.labelled(o.pod(name="redis-5c7d-abcde"), APP)
    svc = o.service("redis", selector={"app.kubernetes.io/name": "redis-primary"})
    found = _detect(svc, ("Deployment", redis), ("Pod", pod), ("Deployment", _worker()))
    [finding] = found.findings
    assert finding.reason == DEPENDENCY_UNREACHABLE
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="worker")
    assert dict(finding.labels) == {
        incident_labels.DEPENDENCY: "Service shop/redis",
        incident_labels.DEPENDENCY_STATE: incident_labels.SELECTOR_MATCHES_NOTHING,
    }


def test_a_selector_matching_nothing_with_no_dependant_stays_on_the_service() -> None:
    svc = o.service("redis", selector={"app.kubernetes.io/name": "redis-primary"})
    [finding] = _detect(svc).findings
    assert finding.reason == SELECTOR_MATCHES_NOTHING
    assert finding.target == WorkloadRef(namespace="shop", kind="Service", name="redis")


def _zero(generation: int = 3, **spec: Any) -> o.Obj:
    d = o.with_template(o.deployment("worker", replicas=0), {"app": "worker"})
    d["metadata"]["generation"] = generation
    d["status"] = {"observedGeneration": generation, "replicas": 0}
    d["spec"].update(spec)
    return d


def _unserved(deployment: o.Obj, *services: o.Obj, listed: bool = True) -> Any:
    index, store = NamespaceIndex(), {}
    if listed:
        index.mark_listed("Service", None)
    for svc in services:
        key: Key = ("Service", "shop", svc["metadata"]["name"])
        index.add(key)
        store[key] = svc
    return unserved_zero(deployment, Neighbours("shop", index, store.get), o.NOW, Detection())


def test_a_deployment_changed_to_zero_that_no_service_fronts_is_scaled_to_zero() -> None:
    [finding] = _unserved(_zero()).findings
    assert finding.reason == SCALED_TO_ZERO and "generation 3" in finding.message


def test_zero_by_creation_paused_fronted_or_still_scaling_down_is_not_this_detector_s() -> None:
    assert not _unserved(_zero(generation=1))  # created at zero: nothing says it changed
    assert not _unserved(_zero(paused=True))
    assert not _unserved(_zero(), o.service("worker", selector={"app": "worker"}))  # the Service's
    scaling = _zero()
    scaling["status"]["replicas"] = 1
    assert not _unserved(scaling)


def test_before_the_services_are_listed_it_looks_again() -> None:
    found = _unserved(_zero(), listed=False)
    assert not found.findings and found.recheck_at is not None
