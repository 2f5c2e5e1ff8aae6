"""Fields a real API server fills in on create and update (the "managed defaults")."""

from __future__ import annotations

import hashlib
from typing import Any

from sandbox.apiserver import policy_defaults, workload_defaults
from sandbox.controllers.pod_resources import qos_class

# The default service CIDR of kubeadm clusters (10.96.0.0/12) and the NodePort range.
_SERVICE_NET_BASE = (10 << 24) | (96 << 16)
_SERVICE_NET_SIZE = 1 << 20
_NODE_PORTS = (30000, 32767)


def _pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image", ""))
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else "latest"
            container.setdefault("imagePullPolicy", "Always" if tag == "latest" else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _requests_from_limits(spec: dict[str, Any]) -> None:
    # Pods only (not templates): a container with a limit and no request gets the limit as request.
    for group in ("initContainers", "containers"):
        for container in spec.get(group) or []:
            resources = container.get("resources") if isinstance(container, dict) else None
            if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
                continue
            requests = resources.setdefault("requests", {})
            if isinstance(requests, dict):
                for name, value in resources["limits"].items():
                    requests.setdefault(name, value)


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:8], "big")


def _service(obj: dict[str, Any]) -> None:
    meta = obj.get("metadata") or {}
    ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    spec = obj.setdefault("spec", {})
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if kind != "ExternalName":
        # A stable address per namespace/name rather than a random one: re-applying the same
        # manifest (GitOps, kubectl replace) must not look like a change.
        if "clusterIP" not in spec:
            offset = 2 + _digest(ns, name) % (_SERVICE_NET_SIZE - 3)
            address = _SERVICE_NET_BASE + offset
            spec["clusterIP"] = ".".join(str((address >> shift) & 255) for shift in (24, 16, 8, 0))
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    if kind in ("NodePort", "LoadBalancer"):
        spec.setdefault("externalTrafficPolicy", "Cluster")
    low, high = _NODE_PORTS
    for port in spec.get("ports") or []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")
            port.setdefault("targetPort", port.get("port"))
            if kind in ("NodePort", "LoadBalancer") and "nodePort" not in port:
                port["nodePort"] = low + _digest(ns, name, str(port.get("port"))) % (high - low + 1)


_WORKLOADS = {
    "Deployment": workload_defaults.deployment,
    "ReplicaSet": workload_defaults.replicaset,
    "StatefulSet": workload_defaults.statefulset,
    "DaemonSet": workload_defaults.daemonset,
    "Job": workload_defaults.job,
    "CronJob": workload_defaults.cronjob,
}
_OTHERS = {
    "Secret": policy_defaults.secret,
    "PersistentVolumeClaim": policy_defaults.persistentvolumeclaim,
    "PersistentVolume": policy_defaults.persistentvolume,
    "StorageClass": policy_defaults.storageclass,
    "LimitRange": policy_defaults.limitrange,
    "HorizontalPodAutoscaler": policy_defaults.horizontalpodautoscaler,
    "NetworkPolicy": policy_defaults.networkpolicy,
}


def apply_defaults(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Fill in what kube-apiserver's defaulting would (in place; returns obj)."""
    if kind == "Pod" and isinstance(obj.get("spec"), dict):
        _pod_spec(obj["spec"])
        _requests_from_limits(obj["spec"])
        obj.setdefault("status", {"phase": "Pending", "qosClass": qos_class(obj["spec"])})
    elif kind in _WORKLOADS:
        _WORKLOADS[kind](obj, _pod_spec)
    elif kind in _OTHERS:
        _OTHERS[kind](obj)
    elif kind == "Namespace":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj.setdefault("status", {"phase": "Active"})
        obj.setdefault("metadata", {}).setdefault("labels", {})
        obj["metadata"]["labels"].setdefault("kubernetes.io/metadata.name", obj["metadata"].get("name", ""))
    elif kind == "Service":
        _service(obj)
    return obj


def prepare_for_create(kind: str, obj: dict[str, Any], uid: str) -> dict[str, Any]:
    """What a kind's registry strategy does on create only (a Job's generated selector and labels)."""
    if kind == "Job":
        workload_defaults.generate_job_selector(obj, uid)
    return obj
