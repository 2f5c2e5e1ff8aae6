"""The workloads whose env reaches a Service with no endpoints."""

from __future__ import annotations

from agent.domain import WorkloadRef
from server.watcher.detect_dependants import DEPENDENCY_UNREACHABLE, dependant_findings
from tests.server.watcher import objects as o


def _worker(value: str, namespace: str = "shop", replicas: int = 2) -> o.Obj:
    d = o.with_template(o.deployment("worker", namespace, replicas=replicas), {"app": "worker"})
    d["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "WORKER_CONCURRENCY", "value": "4"},
        {"name": "REDIS_URL", "value": value},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
    ]
    return d


def test_a_url_naming_the_service_makes_its_workload_a_dependant() -> None:
    [finding] = dependant_findings("redis", "shop", "ScaledToZero", [_worker("redis://redis:6379/0")])
    assert finding.reason == DEPENDENCY_UNREACHABLE
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="worker")
    assert finding.container == "app"
    assert "REDIS_URL" in finding.message and "shop/redis" in finding.message


def test_qualified_names_reach_across_namespaces_short_names_do_not() -> None:
    far = _worker("redis.shop.svc.cluster.local:6379", namespace="billing")
    near = _worker("redis:6379", namespace="billing")  # means billing's redis, not shop's
    assert [f.target.namespace for f in dependant_findings("redis", "shop", "x", [far, near])] == ["billing"]


def test_other_hosts_lookalikes_and_idle_workloads_are_not_dependants() -> None:
    others = [_worker("redis-cache:6379"), _worker("http://myredis/"), _worker("redis:6379", replicas=0)]
    assert dependant_findings("redis", "shop", "x", others) == []


def test_values_from_configmaps_count_secrets_are_never_read() -> None:
    worker = _worker("4")
    container = worker["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        {"name": "QUEUE_URL", "valueFrom": {"configMapKeyRef": {"name": "worker-config", "key": "QUEUE_URL"}}}
    ]
    configmaps = {"shop": {"worker-config": {"QUEUE_URL": "redis://redis.shop:6379/0"}}}
    [finding] = dependant_findings("redis", "shop", "x", [worker], configmaps)
    assert "QUEUE_URL" in finding.message
    container["env"] = []
    container["envFrom"] = [{"configMapRef": {"name": "worker-config"}, "prefix": "APP_"}]
    [finding] = dependant_findings("redis", "shop", "x", [worker], configmaps)
    assert "APP_QUEUE_URL" in finding.message
    container["envFrom"] = [{"secretRef": {"name": "worker-config"}}]
    assert dependant_findings("redis", "shop", "x", [worker], configmaps) == []
