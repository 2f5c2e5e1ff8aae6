"""Realistic Kubernetes objects (as `kubectl get -o json` shows them) for the watcher's tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]
NOW = datetime(2025, 6, 2, 9, 30, 0, tzinfo=UTC)


def ts(moment: datetime) -> str:
    """RFC 3339 with a Z, as the API server writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(seconds: float) -> str:
    """A timestamp `seconds` before NOW."""
    return ts(NOW - timedelta(seconds=seconds))


def running_container(name: str = "app", restarts: int = 0, ready: bool = True) -> Obj:
    """A container status that is running."""
    return {
        "name": name,
        "image": "registry.local/shop/web-api:1.4.2",
        "imageID": "registry.local/shop/web-api@sha256:1f2e",
        "containerID": "containerd://9a8b7c",
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": ago(300)}},
        "lastState": {},
    }


def pod(
    name: str = "web-api-7d9f8c6b5-x2k4q",
    namespace: str = "shop",
    *,
    rs: str | None = "web-api-7d9f8c6b5",
    template_hash: str = "7d9f8c6b5",
    phase: str = "Running",
    containers: list[Obj] | None = None,
    ready: bool = True,
    ready_since: float = 600,
    started: float = 900,
    uid: str | None = None,
) -> Obj:
    """A pod owned by a ReplicaSet (or bare when `rs` is None)."""
    metadata: Obj = {
        "name": name,
        "namespace": namespace,
        "uid": uid or f"uid-{name}",
        "resourceVersion": "4711",
        "creationTimestamp": ago(started),
        "labels": {"app": "web-api", "pod-template-hash": template_hash},
    }
    if rs is not None:
        metadata["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": rs,
                "uid": f"uid-{rs}",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    status: Obj = {
        "phase": phase,
        "hostIP": "10.0.0.11",
        "podIP": "10.244.1.17",
        "startTime": ago(started),
        "qosClass": "Burstable",
        "conditions": [
            {"type": "Initialized", "status": "True", "lastTransitionTime": ago(started)},
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": ago(ready_since),
                **({} if ready else {"reason": "ContainersNotReady"}),
            },
            {"type": "ContainersReady", "status": "True" if ready else "False"},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": ago(started)},
        ],
        "containerStatuses": containers if containers is not None else [running_container()],
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "app", "image": "registry.local/shop/web-api:1.4.2"}],
        },
        "status": status,
    }


def crashloop_container(restarts: int = 5, last_reason: str = "Error", exit_code: int = 1) -> Obj:
    """A container waiting in CrashLoopBackOff after a termination."""
    c = running_container(restarts=restarts, ready=False)
    c["started"] = False
    c["state"] = {
        "waiting": {
            "reason": "CrashLoopBackOff",
            "message": "back-off 2m40s restarting failed container=app pod=web-api-7d9f8c6b5-x2k4q_shop",
        }
    }
    c["lastState"] = {
        "terminated": {
            "exitCode": exit_code,
            "reason": last_reason,
            "startedAt": ago(70),
            "finishedAt": ago(60),
            "containerID": "containerd://1a2b",
        }
    }
    return c


def waiting_container(reason: str, message: str = "") -> Obj:
    """A container that never started, waiting for a reason."""
    c = running_container(ready=False)
    c["started"] = False
    c["state"] = {"waiting": {"reason": reason, **({"message": message} if message else {})}}
    return c


def oom_terminated_container() -> Obj:
    """A container just OOM-killed (before the kubelet backs off)."""
    c = running_container(restarts=1, ready=False)
    c["state"] = {
        "terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": ago(40), "finishedAt": ago(1)}
    }
    return c


def unschedulable_pod() -> Obj:
    """A pod the scheduler cannot place."""
    p = pod(phase="Pending", containers=[], ready=False)
    del p["status"]["containerStatuses"]
    p["status"]["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient memory.",
            "lastTransitionTime": ago(5),
        }
    ]
    return p


def evicted_pod() -> Obj:
    """A pod evicted under node memory pressure."""
    p = pod(phase="Failed", ready=False)
    p["status"]["reason"] = "Evicted"
    p["status"]["message"] = (
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 80Mi."
    )
    return p


def deployment(
    name: str = "web-api",
    namespace: str = "shop",
    *,
    replicas: int = 3,
    unavailable: int = 0,
    available_false_since: float | None = None,
    progress_deadline_exceeded: bool = False,
) -> Obj:
    """A Deployment with status counters and conditions."""
    conditions: list[Obj] = [
        {
            "type": "Available",
            "status": "False" if available_false_since is not None else "True",
            "reason": "MinimumReplicasUnavailable"
            if available_false_since is not None
            else "MinimumReplicasAvailable",
            "lastTransitionTime": ago(available_false_since if available_false_since is not None else 3600),
            "lastUpdateTime": ago(10),
        },
        {
            "type": "Progressing",
            "status": "False" if progress_deadline_exceeded else "True",
            "reason": "ProgressDeadlineExceeded" if progress_deadline_exceeded else "NewReplicaSetAvailable",
            "message": 'ReplicaSet "web-api-7d9f8c6b5" has timed out progressing.'
            if progress_deadline_exceeded
            else 'ReplicaSet "web-api-7d9f8c6b5" has successfully progressed.',
            "lastTransitionTime": ago(100),
        },
    ]
    status: Obj = {
        "observedGeneration": 4,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas - unavailable,
        "availableReplicas": replicas - unavailable,
        "conditions": conditions,
    }
    if unavailable:
        status["unavailableReplicas"] = unavailable
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "generation": 4},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}},
        "status": status,
    }


def application(health: str = "Healthy", phase: str = "Succeeded", degraded: list[str] | None = None) -> Obj:
    """An Argo CD Application managing the shop's Deployments."""
    resources = []
    for name in ("web-api", "worker"):
        bad = name in (degraded or [])
        resources.append(
            {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": "shop",
                "name": name,
                "status": "Synced",
                "health": {"status": "Degraded", "message": "Deployment has pods in CrashLoopBackOff"}
                if bad
                else {"status": "Healthy"},
            }
        )
    resources.append(
        {"version": "v1", "kind": "Service", "namespace": "shop", "name": "web-api", "status": "Synced"}
    )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "sandbox-apps", "namespace": "argocd", "uid": "uid-app"},
        "spec": {
            "source": {"repoURL": "file:///tmp/gitops", "path": "apps", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "shop"},
        },
        "status": {
            "sync": {"status": "Synced", "revision": "3f2a1b"},
            "health": {"status": health},
            "resources": resources,
            "operationState": {
                "phase": phase,
                "message": "successfully synced (all tasks run)"
                if phase == "Succeeded"
                else "one or more objects failed to apply, reason: Deployment/web-api: bad memory quantity",
                "startedAt": ago(30),
                "finishedAt": ago(29),
            },
        },
    }


def kustomization(
    ready: str = "True", reason: str = "ReconciliationSucceeded", message: str = "", suspend: bool = False
) -> Obj:
    """A Flux Kustomization."""
    return {
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "shop", "namespace": "flux-system", "uid": "uid-ks"},
        "spec": {"interval": "10m", "path": "./apps/shop", "prune": True, "suspend": suspend},
        "status": {
            "conditions": [
                {
                    "type": "Ready",
                    "status": ready,
                    "reason": reason,
                    "message": message or "Applied revision: main@sha1:3f2a1b",
                    "lastTransitionTime": ago(20),
                }
            ]
        },
    }


def variant(obj: Obj) -> Obj:
    """A deep copy to modify."""
    return copy.deepcopy(obj)


def service(
    name: str = "web-api",
    namespace: str = "shop",
    *,
    selector: dict[str, str] | None = None,
    target_port: int | str = 8080,
    created: float = 3600,
    type_: str = "ClusterIP",
    cluster_ip: str = "10.96.14.2",
) -> Obj:
    """A Service as the API server returns it (selector None: a Service without one)."""
    spec: Obj = {
        "type": type_,
        "clusterIP": cluster_ip,
        "clusterIPs": [cluster_ip],
        "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": target_port}],
        "sessionAffinity": "None",
        "ipFamilies": ["IPv4"],
        "internalTrafficPolicy": "Cluster",
    }
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-svc-{name}",
            "resourceVersion": "812",
            "creationTimestamp": ago(created),
            "labels": {"app.kubernetes.io/name": name},
        },
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def with_template(
    deployment_: Obj, labels: dict[str, str], created: float = 3600, ports: list[Obj] | None = None
) -> Obj:
    """A Deployment with its pod template (labels, a container with ports) and a creation time."""
    d = copy.deepcopy(deployment_)
    d["metadata"]["creationTimestamp"] = ago(created)
    container: Obj = {"name": "app", "image": "registry.local/shop/web-api:1.4.2"}
    if ports is not None:
        container["ports"] = ports
    d["spec"]["template"] = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
    return d


def labelled(pod_: Obj, labels: dict[str, str], ports: list[Obj] | None = None) -> Obj:
    """A pod with other labels (and container ports when given)."""
    p = copy.deepcopy(pod_)
    p["metadata"]["labels"] = {**labels, "pod-template-hash": "7d9f8c6b5"}
    if ports is not None:
        p["spec"]["containers"][0]["ports"] = ports
    return p


def hpa(
    name: str = "web-api",
    namespace: str = "shop",
    *,
    current: int = 10,
    desired: int = 10,
    maximum: int = 10,
    limited: bool = False,
    limited_since: float = 900,
) -> Obj:
    """An autoscaling/v2 HorizontalPodAutoscaler on a Deployment."""
    conditions: list[Obj] = [
        {
            "type": "AbleToScale",
            "status": "True",
            "reason": "ReadyForNewScale",
            "lastTransitionTime": ago(7200),
        },
        {
            "type": "ScalingActive",
            "status": "True",
            "reason": "ValidMetricFound",
            "lastTransitionTime": ago(7200),
        },
        {
            "type": "ScalingLimited",
            "status": "True" if limited else "False",
            "reason": "TooManyReplicas" if limited else "DesiredWithinRange",
            "message": "the desired replica count is more than the maximum replica count"
            if limited
            else "the desired count is within the acceptable range",
            "lastTransitionTime": ago(limited_since),
        },
    ]
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": ago(86400)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": maximum,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
                }
            ],
        },
        "status": {
            "currentReplicas": current,
            "desiredReplicas": desired,
            "lastScaleTime": ago(limited_since),
            "currentMetrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "current": {"averageUtilization": 180, "averageValue": "360m"},
                    },
                }
            ],
            "conditions": conditions,
        },
    }
