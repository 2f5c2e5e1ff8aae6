"""A Service with no endpoints: selector matching nothing, backing Deployment at zero, backends unready."""

from __future__ import annotations

from datetime import timedelta

from agent.domain import WorkloadRef
from server.watcher.detect import DetectPolicy
from server.watcher.detect_service import (
    NO_READY_ENDPOINTS,
    SCALED_TO_ZERO,
    SELECTOR_MATCHES_NOTHING,
    detect_service,
)
from tests.server.watcher import objects as o

POLICY = DetectPolicy(grace_seconds=60)
APP = {"app.kubernetes.io/name": "redis"}


def _redis_pod(ready: bool = True, ready_since: float = 600) -> o.Obj:
    return o.labelled(o.pod(name="redis-5c7d-abcde", ready=ready, ready_since=ready_since), APP)


def _redis_deployment(replicas: int = 1, created: float = 3600) -> o.Obj:
    return o.with_template(o.deployment("redis", replicas=replicas), APP, created=created)


def test_a_selector_no_pod_carries_is_found_on_the_service() -> None:
    svc = o.service("redis", selector={"app.kubernetes.io/name": "redis-primary"})
    found = detect_service(svc, [_redis_pod()], [_redis_deployment()], o.NOW, POLICY)
    [finding] = found.findings
    assert finding.reason == SELECTOR_MATCHES_NOTHING
    assert finding.target == WorkloadRef(namespace="shop", kind="Service", name="redis")
    assert "app.kubernetes.io/name=redis-primary" in finding.message
    assert "no Deployment's pod template" in finding.message


def test_a_healthy_service_is_quiet() -> None:
    svc = o.service("redis", selector=APP)
    assert not detect_service(svc, [_redis_pod()], [_redis_deployment()], o.NOW, POLICY)


def test_services_without_a_managed_selector_are_quiet() -> None:
    manual = o.service("legacy-db", selector=None)  # endpoints set by hand
    external = o.service("payments", selector=APP, type_="ExternalName")
    headless = o.service("peers", selector=None, cluster_ip="None")
    for svc in (manual, external, headless):
        assert not detect_service(svc, [], [], o.NOW, POLICY), svc["metadata"]["name"]


def test_a_new_service_gets_its_grace_period() -> None:
    svc = o.service("redis", selector={"app.kubernetes.io/name": "redis-primary"}, created=10)
    found = detect_service(svc, [], [], o.NOW, POLICY)
    assert not found.findings
    assert found.recheck_at == o.NOW + timedelta(seconds=50)


def test_a_deployment_still_rolling_out_or_scaling_back_up_is_quiet() -> None:
    svc = o.service("redis", selector=APP)  # old Service, pods not there yet
    assert not detect_service(svc, [], [_redis_deployment(created=20)], o.NOW, POLICY)
    assert not detect_service(svc, [], [_redis_deployment(replicas=2, created=9000)], o.NOW, POLICY)


def test_a_backing_deployment_at_zero_is_the_finding() -> None:
    svc = o.service("redis", selector=APP)
    [finding] = detect_service(svc, [], [_redis_deployment(replicas=0)], o.NOW, POLICY).findings
    assert finding.reason == SCALED_TO_ZERO
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="redis")
    assert "spec.replicas is 0" in finding.message


def test_terminating_and_finished_pods_are_no_endpoints() -> None:
    svc = o.service("redis", selector=APP)
    leaving = _redis_pod()
    leaving["metadata"]["deletionTimestamp"] = o.ago(5)
    done = o.labelled(o.pod(name="redis-job", phase="Succeeded", ready=False), APP)
    [finding] = detect_service(svc, [leaving, done], [_redis_deployment(replicas=0)], o.NOW, POLICY).findings
    assert finding.reason == SCALED_TO_ZERO


def test_all_backends_unready_past_grace_folds_into_the_deployment() -> None:
    svc = o.service("redis", selector=APP)
    [finding] = detect_service(
        svc, [_redis_pod(ready=False, ready_since=300)], [_redis_deployment()], o.NOW, POLICY
    ).findings
    assert finding.reason == NO_READY_ENDPOINTS
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="redis")


def test_unready_backends_without_a_deployment_are_found_on_the_service() -> None:
    svc = o.service("redis", selector=APP)
    [finding] = detect_service(svc, [_redis_pod(ready=False, ready_since=300)], [], o.NOW, POLICY).findings
    assert finding.target == WorkloadRef(namespace="shop", kind="Service", name="redis")


def test_backends_unready_within_grace_are_rechecked_not_reported() -> None:
    svc = o.service("redis", selector=APP)
    found = detect_service(
        svc, [_redis_pod(ready=False, ready_since=20)], [_redis_deployment()], o.NOW, POLICY
    )
    assert not found.findings
    assert found.recheck_at == o.NOW + timedelta(seconds=40)


def test_one_ready_backend_is_enough() -> None:
    svc = o.service("redis", selector=APP)
    pods = [_redis_pod(ready=False, ready_since=900), o.labelled(o.pod(name="redis-5c7d-zzzzz"), APP)]
    assert not detect_service(svc, pods, [_redis_deployment()], o.NOW, POLICY)


def test_garbage_yields_nothing() -> None:
    assert not detect_service({"metadata": "x"}, [], [], o.NOW, POLICY)
    assert not detect_service({"spec": {"selector": APP}}, [], [], o.NOW, POLICY)
