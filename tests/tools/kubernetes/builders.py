"""API objects as a real API server returns them, for unit tests against the fake server."""

from __future__ import annotations

from typing import Any

NS = "shop"


def deployment(
    name: str = "web",
    *,
    uid: str = "d-1",
    revision: int = 2,
    replicas: int = 2,
    image: str = "shop/web:1.1",
    **spec: Any,
) -> dict:
    """A Deployment with server-set noise (managedFields, status, defaults)."""
    return {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": uid,
            "resourceVersion": "812",
            "generation": 4,
            "creationTimestamp": "2024-05-01T09:00:00Z",
            "labels": {"app": name},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "kubectl.kubernetes.io/last-applied-configuration": '{"big":"blob"}',
                "team": "checkout",
            },
            "managedFields": [{"manager": "kubectl", "operation": "Update"}],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "progressDeadlineSeconds": 600,
            "revisionHistoryLimit": 10,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "template": template(name, image),
            **spec,
        },
        "status": {
            "observedGeneration": 4,
            "replicas": 2,
            "readyReplicas": 1,
            "availableReplicas": 1,
            "updatedReplicas": 2,
            "unavailableReplicas": 1,
            "conditions": [
                {
                    "type": "Available",
                    "status": "False",
                    "reason": "MinimumReplicasUnavailable",
                    "message": "Deployment does not have minimum availability.",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "ReplicaSetUpdated",
                    "message": "progressing",
                },
            ],
        },
    }


def template(app: str, image: str, memory: str = "128Mi", hash_: str | None = None) -> dict:
    """A pod template with server defaults filled in."""
    labels = {"app": app, **({"pod-template-hash": hash_} if hash_ else {})}
    return {
        "metadata": {"creationTimestamp": None, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": image,
                    "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "resources": {"limits": {"memory": memory}},
                    "env": [{"name": "DB_PASSWORD", "value": "hunter2"}],
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "securityContext": {},
            "schedulerName": "default-scheduler",
        },
    }


def replica_set(
    name: str,
    revision: int,
    image: str,
    *,
    owner_uid: str = "d-1",
    uid: str | None = None,
    replicas: int = 0,
    change_cause: str = "",
    memory: str = "128Mi",
) -> dict:
    """A ReplicaSet of the `web` Deployment."""
    hash_ = name.rsplit("-", 1)[-1]
    annotations = {"deployment.kubernetes.io/revision": str(revision), "team": "checkout"}
    if change_cause:
        annotations["kubernetes.io/change-cause"] = change_cause
    return {
        "kind": "ReplicaSet",
        "apiVersion": "apps/v1",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": uid or f"rs-{revision}",
            "creationTimestamp": f"2024-05-0{revision}T09:00:00Z",
            "labels": {"app": "web", "pod-template-hash": hash_},
            "annotations": annotations,
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "web",
                    "uid": owner_uid,
                    "controller": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": hash_}},
            "template": template("web", image, memory, hash_),
        },
        "status": {"replicas": replicas},
    }


def oom_pod(name: str = "web-abc12-xyz", rs: str = "web-abc12", rs_uid: str = "rs-2") -> dict:
    """A pod in CrashLoopBackOff after OOM kills."""
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": f"p-{name}",
            "labels": {"app": "web", "pod-template-hash": rs.rsplit("-", 1)[-1]},
            "ownerReferences": [
                {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "uid": rs_uid, "controller": True}
            ],
            "creationTimestamp": "2024-05-02T09:00:00Z",
        },
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "shop/web:1.2"}]},
        "status": {
            "phase": "Running",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ContainersNotReady",
                    "message": "containers with unready status: [app]",
                },
                {"type": "PodScheduled", "status": "True"},
            ],
            "containerStatuses": [
                {
                    "name": "app",
                    "image": "shop/web:1.2",
                    "ready": False,
                    "started": False,
                    "restartCount": 5,
                    "state": {
                        "waiting": {
                            "reason": "CrashLoopBackOff",
                            "message": "back-off 2m40s restarting failed container=app",
                        }
                    },
                    "lastState": {
                        "terminated": {
                            "reason": "OOMKilled",
                            "exitCode": 137,
                            "finishedAt": "2024-05-02T09:10:00Z",
                        }
                    },
                }
            ],
        },
    }
