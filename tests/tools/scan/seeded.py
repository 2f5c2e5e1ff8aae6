"""A labelled set for the scan: a clean namespace (with near misses no check may flag) and a seeded
one where each workload carries one misconfiguration, labelled with the finding it must produce."""

from __future__ import annotations

import copy
from typing import Any

Obj = dict[str, Any]
IMAGE = "registry.example/shop/web:1.4.2"


def node(name: str, cpu: str = "4", memory: str = "16Gi") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "status": {"allocatable": {"cpu": cpu, "memory": memory}, "capacity": {"cpu": cpu, "memory": memory}},
    }


def container(**overrides: Any) -> Obj:
    base: Obj = {
        "name": "app",
        "image": IMAGE,
        "ports": [{"name": "http", "containerPort": 8080}],
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
        "env": [
            {"name": "DB_URL", "valueFrom": {"configMapKeyRef": {"name": "shop-config", "key": "db_url"}}}
        ],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def deployment(
    ns: str,
    name: str,
    *,
    replicas: int = 2,
    tier: str = "web",
    kind: str = "Deployment",
    containers: list[Obj] | None = None,
    **spec: Any,
) -> Obj:
    labels = {"app": name, "tier": tier}
    body: Obj = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": containers or [container()], **spec},
            },
        },
    }
    if kind != "DaemonSet":
        body["spec"]["replicas"] = replicas
    if kind == "StatefulSet":
        body["spec"]["serviceName"] = name
    return body


def service(ns: str, name: str, selector: Obj | None) -> Obj:
    spec: Obj = {"ports": [{"port": 80, "targetPort": 8080}]}
    if selector is not None:
        spec["selector"] = selector
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def configmap(ns: str, name: str = "shop-config", **data: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data or {"db_url": "postgres://db:5432/shop"},
    }


def pdb(ns: str, tier: str = "web") -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"{tier}-pdb", "namespace": ns},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"tier": tier}}},
    }


def hpa(ns: str, name: str, target: str, current: int, maximum: int = 5) -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": 2,
            "maxReplicas": maximum,
        },
        "status": {"currentReplicas": current, "desiredReplicas": current},
    }


def pod(ns: str, owner: str, restarts: int, reason: str = "OOMKilled") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{owner}-5d9c7b6f4-abcde",
            "namespace": ns,
            "labels": {"app": owner, "tier": "web"},
            "ownerReferences": [{"kind": "ReplicaSet", "name": f"{owner}-5d9c7b6f4"}],
        },
        "spec": {"containers": [container()]},
        "status": {
            "containerStatuses": [
                {
                    "name": "app",
                    "restartCount": restarts,
                    "image": IMAGE,
                    "imageID": f"{IMAGE}@sha256:{'a' * 64}",
                    "lastState": {"terminated": {"reason": reason}},
                }
            ]
        },
    }


def clean(ns: str = "clean") -> list[Obj]:
    """A namespace with nothing to find, including near misses each check must leave alone."""
    worker = container(ports=None, readinessProbe=None, name="worker")  # listens on nothing: no probe needed
    numeric_probe = container(ports=None, readinessProbe={"tcpSocket": {"port": 9000}})  # undeclared, allowed
    optional = container(
        env=[
            {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "absent", "key": "t", "optional": True}}}
        ]
    )
    digest = container(image=f"registry.example/shop/web@sha256:{'b' * 64}")
    return [
        configmap(ns),
        pdb(ns),
        deployment(ns, "web"),
        deployment(ns, "worker", containers=[worker]),
        deployment(ns, "numeric-probe", containers=[numeric_probe]),
        deployment(ns, "optional-secret", containers=[optional]),
        deployment(ns, "by-digest", containers=[digest]),
        deployment(ns, "db", kind="StatefulSet"),
        deployment(ns, "agent", kind="DaemonSet", tier="node"),
        deployment(ns, "autoscaled", replicas=1, tier="scaled"),  # one replica, but an HPA scales it
        hpa(ns, "autoscaled", "autoscaled", current=2),
        service(ns, "web", {"app": "web"}),
        service(ns, "external", None),  # no selector: endpoints managed elsewhere
        pod(ns, "web", restarts=1),
    ]


def seeded(ns: str = "seeded") -> tuple[list[Obj], set[tuple[str, str]]]:
    """Misconfigured objects, and the (check, object name) findings they must produce (and no others)."""
    no_requests = container(resources={"limits": {"memory": "256Mi"}})
    no_limit = container(resources={"requests": {"cpu": "100m", "memory": "128Mi"}})
    no_probe = container(readinessProbe=None)
    bad_probe = container(readinessProbe=None, livenessProbe={"httpGet": {"path": "/", "port": 9090}})
    huge = container(resources={"requests": {"cpu": "100m", "memory": "64Gi"}, "limits": {"memory": "64Gi"}})
    missing_key = container(
        env=[{"name": "DB_URL", "valueFrom": {"configMapKeyRef": {"name": "shop-config", "key": "dsn"}}}]
    )
    missing_secret = container(env=None, envFrom=[{"secretRef": {"name": "api-keys"}}])
    objects = [
        configmap(ns),
        pdb(ns),
        deployment(ns, "no-requests", containers=[no_requests]),
        deployment(ns, "no-limit", containers=[no_limit]),
        deployment(ns, "no-probe", containers=[no_probe]),
        deployment(ns, "latest", containers=[container(image="registry.example/shop/web:latest")]),
        deployment(ns, "untagged", containers=[container(image="registry.example/shop/web")]),
        deployment(ns, "single", replicas=1, tier="lonely"),
        deployment(ns, "huge", containers=[huge]),
        deployment(ns, "bad-probe", containers=[bad_probe]),
        deployment(ns, "missing-key", containers=[missing_key]),
        deployment(ns, "missing-secret", containers=[missing_secret]),
        deployment(ns, "maxed"),
        hpa(ns, "maxed", "maxed", current=5),
        service(ns, "orphan", {"app": "ghost"}),
        pod(ns, "crashy", restarts=12),
    ]
    expected = {
        ("no-requests", "no-requests"),
        ("no-memory-limit", "no-limit"),
        ("no-probes", "no-probe"),
        ("unpinned-image", "latest"),
        ("unpinned-image", "untagged"),
        ("single-replica-no-pdb", "single"),
        ("requests-exceed-nodes", "huge"),
        ("probe-port-not-exposed", "bad-probe"),
        ("missing-config-ref", "missing-key"),
        ("missing-config-ref", "missing-secret"),
        ("hpa-at-max", "maxed"),
        ("service-selects-nothing", "orphan"),
        ("restarts-climbing", "crashy"),
    }
    return [copy.deepcopy(o) for o in objects], expected


NODES = [node("node-a"), node("node-b", memory="32Gi")]
