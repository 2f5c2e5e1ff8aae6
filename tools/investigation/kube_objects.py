"""Kubernetes object reads for an investigator: get, describe, pods by selector, Service endpoints,
and the key names (never the values) of ConfigMaps and Secrets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from tools.investigation.catalogue import Backends, ToolArgs, ToolSpec, unwrap
from tools.investigation.kube_activity import events_of
from tools.kubernetes import KubeClient, NotFound, clean_manifest, pod_status, workload_status
from tools.kubernetes.client import Obj
from tools.kubernetes.objects import WORKLOAD_KINDS, read_object
from tools.kubernetes.status import Condition, PodStatus, Termination, WorkloadStatus, pod_status_of
from tools.result import ToolFailure

ObjectKind = Literal[
    "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod", "Service", "ConfigMap",
    "Secret", "Node",
]  # fmt: skip
_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
_SELECTOR = re.compile(r"^[A-Za-z0-9_./=!,() -]{1,256}$")
_KEYS_ONLY = ("ConfigMap", "Secret")


class ObjectArgs(ToolArgs):
    """One object's spec, metadata and status (ConfigMap/Secret: key names only; Node: no namespace)."""

    kind: ObjectKind
    name: str = Field(pattern=_NAME, max_length=253)
    namespace: str | None = Field(default=None, max_length=63)

    def namespaces(self) -> list[str]:
        """Nodes are cluster-scoped; everything else needs a namespace in scope."""
        if self.kind == "Node":
            return []
        if self.namespace is None:
            raise ToolFailure(f"a {self.kind} lives in a namespace: give `namespace`")
        return [self.namespace]


class DescribeArgs(ObjectArgs):
    """Like kubectl describe: replicas, conditions, pods' container states, restarts and last
    terminations (Service: selector, ports, endpoints), and the object's recent events."""


class PodsArgs(ToolArgs):
    """Pods matching a label selector: phase, readiness, node, container states and restarts."""

    namespace: str = Field(max_length=63)
    selector: str = Field(min_length=1, max_length=256, description="e.g. app=web-api")
    limit: int = Field(default=10, ge=1, le=50)


class EndpointsArgs(ToolArgs):
    """The ready and not-ready pods behind a Service."""

    namespace: str = Field(max_length=63)
    service: str = Field(pattern=_NAME, max_length=253)


class ConfigKeysArgs(ToolArgs):
    """The key names (never values) of a ConfigMap or Secret."""

    kind: Literal["ConfigMap", "Secret"]
    namespace: str = Field(max_length=63)
    name: str = Field(pattern=_NAME, max_length=253)


def _read(kube: KubeClient, kind: str, namespace: str | None, name: str) -> Obj:
    if kind == "Node":
        obj = kube.json(f"get node {name}", kube.core.read_node, name)
        obj.setdefault("kind", "Node")
        return obj
    return read_object(kube, kind, namespace or "", name)


def config_keys(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A ConfigMap's or Secret's identity and key names; values never leave this function."""
    meta = obj.get("metadata") or {}
    out: dict[str, Any] = {
        "kind": obj.get("kind"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "keys": sorted({*(obj.get("data") or {}), *(obj.get("stringData") or {})}),
    }
    if obj.get("binaryData"):
        out["binary_keys"] = sorted(obj["binaryData"])
    if obj.get("kind") == "Secret":
        out["type"] = obj.get("type")
    return out


def _node_view(node: Mapping[str, Any]) -> dict[str, Any]:
    spec, status = node.get("spec") or {}, node.get("status") or {}
    return {
        "kind": "Node",
        "name": (node.get("metadata") or {}).get("name"),
        "labels": (node.get("metadata") or {}).get("labels") or {},
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": spec.get("taints") or [],
        "capacity": status.get("capacity") or {},
        "allocatable": status.get("allocatable") or {},
        "conditions": [
            {k: c.get(k) for k in ("type", "status", "reason", "message")}
            for c in status.get("conditions") or []
        ],
    }


def get_object(env: Backends, args: ObjectArgs) -> Any:
    """The object, cleaned for reading (keys only for ConfigMaps and Secrets)."""
    obj = _read(env.cluster(), args.kind, args.namespace, args.name)
    if args.kind in _KEYS_ONLY:
        return config_keys(obj)
    if args.kind == "Node":
        return _node_view(obj)
    status = obj.get("status")
    body = clean_manifest(obj)
    if status:
        body["status"] = status
    return body


def _conditions(conditions: list[Condition], *, failing_only: bool) -> list[dict[str, str]]:
    return [
        {"type": c.type, "status": c.status, **({"reason": c.reason} if c.reason else {}),
         **({"message": c.message[:300]} if c.message else {})}
        for c in conditions
        if not failing_only or c.status != "True"
    ]  # fmt: skip


def _termination(t: Termination | None) -> dict[str, Any] | None:
    if t is None:
        return None
    out = {"reason": t.reason, "exit_code": t.exit_code, "finished_at": t.finished_at}
    if t.message:
        out["message"] = t.message[:300]
    return {k: v for k, v in out.items() if v not in ("", None)}


def pod_brief(pod: PodStatus) -> dict[str, Any]:
    """A pod's phase, readiness, node, trouble and each container's state: what `describe` shows first."""
    containers = []
    for c in pod.containers:
        entry: dict[str, Any] = {"name": c.name, "image": c.image, "state": c.state, "ready": c.ready,
                                 "restart_count": c.restart_count}  # fmt: skip
        if c.init:
            entry["init"] = True
        if c.reason:
            entry["reason"] = c.reason
        if c.message:
            entry["message"] = c.message[:300]
        for key, term in (("terminated", c.terminated), ("last_termination", c.last_termination)):
            if term is not None:
                entry[key] = _termination(term)
        containers.append(entry)
    out: dict[str, Any] = {"name": pod.name, "phase": pod.phase, "ready": pod.ready, "node": pod.node,
                           "containers": containers}  # fmt: skip
    if pod.reason or pod.message:
        out.update(reason=pod.reason, message=pod.message[:300])
    if pod.deleting:
        out["deleting"] = True
    failing = _conditions(pod.conditions, failing_only=True)
    if failing:
        out["failing_conditions"] = failing
    return out


def _workload_brief(status: WorkloadStatus, max_pods: int) -> dict[str, Any]:
    fields = ("kind", "namespace", "name", "desired", "current", "ready", "available", "updated",
              "unavailable", "revision", "paused")  # fmt: skip
    out: dict[str, Any] = {k: getattr(status, k) for k in fields if getattr(status, k) not in (None, False)}
    out["conditions"] = _conditions(status.conditions, failing_only=False)
    out["pods"] = [pod_brief(p) for p in sorted(status.pods, key=_pod_trouble)[:max_pods]]
    if len(status.pods) > max_pods:
        out["pods_not_shown"] = len(status.pods) - max_pods
    return out


def _pod_trouble(pod: PodStatus) -> tuple[bool, int, str]:
    return pod.ready, -pod.restarts, pod.name




def describe_object(env: Backends, args: DescribeArgs) -> Any:
    """Status and recent events of one object."""
    kube, ns = env.cluster(), args.namespace or ""
    limit = min(env.limits.max_events, 15)
    if args.kind in WORKLOAD_KINDS:
        view: dict[str, Any] = _workload_brief(
            unwrap(workload_status(kube, ns, args.kind, args.name)), min(env.limits.max_pods, 5)
        )
    elif args.kind == "Pod":
        view = pod_brief(unwrap(pod_status(kube, ns, args.name)))
    elif args.kind == "Service":
        service = read_object(kube, "Service", ns, args.name)
        view = {"service": _service_view(service), "endpoints": _endpoints(env, service)}
    else:
        view = get_object(env, args)
    if args.kind != "Node":
        view["events"] = events_of(kube, args.kind, ns, args.name, limit)
    return view


def _service_view(service: Mapping[str, Any]) -> dict[str, Any]:
    spec = service.get("spec") or {}
    return {
        "name": (service.get("metadata") or {}).get("name"),
        "type": spec.get("type"),
        "selector": spec.get("selector") or {},
        "ports": spec.get("ports") or [],
    }


def list_pods(env: Backends, args: PodsArgs) -> Any:
    """The pods matching the selector, most troubled first."""
    if not _SELECTOR.match(args.selector):
        raise ToolFailure(f"{args.selector!r} is not a label selector (e.g. app=web-api,tier!=cache)")
    kube = env.cluster()
    listed = kube.json(
        f"list pods in {args.namespace}", kube.core.list_namespaced_pod, args.namespace,
        label_selector=args.selector,
    )  # fmt: skip
    pods = [pod_brief(p) for p in sorted(map(pod_status_of, listed.get("items") or []), key=_pod_trouble)]
    limit = min(args.limit, env.limits.max_pods)
    return {"selector": args.selector, "total": len(pods), "pods": pods[:limit]}


def _endpoints(env: Backends, service: Mapping[str, Any]) -> dict[str, Any]:
    kube = env.cluster()
    meta = service.get("metadata") or {}
    ns, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    try:
        endpoints = kube.json(f"get endpoints {ns}/{name}", kube.core.read_namespaced_endpoints, name, ns)
    except NotFound:
        endpoints = None
    if endpoints is not None:
        ready: list[dict[str, Any]] = []
        not_ready: list[dict[str, Any]] = []
        for subset in endpoints.get("subsets") or []:
            ports = [p.get("port") for p in subset.get("ports") or []]
            for field, into in (("addresses", ready), ("notReadyAddresses", not_ready)):
                into.extend(
                    {"ip": a.get("ip"), "pod": (a.get("targetRef") or {}).get("name"), "ports": ports}
                    for a in subset.get(field) or []
                )
        return {"source": "Endpoints object", "ready": ready, "not_ready": not_ready}
    selector = (service.get("spec") or {}).get("selector") or {}
    if not selector:
        return {"source": "none", "note": "the Service has no selector and no Endpoints object"}
    label = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    listed = kube.json(f"list pods in {ns}", kube.core.list_namespaced_pod, ns, label_selector=label)
    ready, not_ready = [], []  # computed as the endpoints controller would, from pod readiness
    for pod in listed.get("items") or []:
        status = pod_status_of(pod)
        entry = {"ip": (pod.get("status") or {}).get("podIP"), "pod": status.name, "phase": status.phase}
        (ready if status.ready and not status.deleting else not_ready).append(entry)
    return {"source": f"pods matching the selector {label}", "ready": ready, "not_ready": not_ready}


def service_endpoints(env: Backends, args: EndpointsArgs) -> Any:
    """The Service and the addresses behind it."""
    service = read_object(env.cluster(), "Service", args.namespace, args.service)
    return {"service": _service_view(service), "endpoints": _endpoints(env, service)}


def configuration_keys(env: Backends, args: ConfigKeysArgs) -> Any:
    """Key names of a ConfigMap or Secret."""
    return config_keys(read_object(env.cluster(), args.kind, args.namespace, args.name))


TOOLS = (
    ToolSpec("k8s_get", "kubernetes", ObjectArgs, get_object),
    ToolSpec("k8s_describe", "kubernetes", DescribeArgs, describe_object),
    ToolSpec("k8s_pods", "kubernetes", PodsArgs, list_pods),
    ToolSpec("k8s_service_endpoints", "kubernetes", EndpointsArgs, service_endpoints),
    ToolSpec("k8s_config_keys", "kubernetes", ConfigKeysArgs, configuration_keys),
)
