"""ResourceQuota: what an object uses (pods' requests and limits, object counts, storage), whether a
new object fits every quota of its namespace, and the API server's words when it does not.

`exceeded quota: compute, requested: limits.memory=1Gi, used: limits.memory=1536Mi, limited:
limits.memory=2Gi` and `failed quota: compute: must specify limits.memory for: app` are what
kube-apiserver's ResourceQuota admission plugin answers (403 Forbidden).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sandbox.controllers.pod_resources import qos_class
from sandbox.controllers.quantity import format_quantity, is_binary, parse_quantity
from sandbox.resources import PERSISTENTVOLUMECLAIMS, PODS, RESOURCEQUOTAS, Registry
from sandbox.store import Obj, ResourceType, Store

# Quota on any of these makes every container say its own value (a backward-compatibility rule).
COMPUTE = frozenset({"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"})
_COUNTED_CORE = {"pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "resourcequotas"}
Usage = dict[str, float]


def _container_usage(container: dict[str, Any]) -> tuple[Usage, set[str]]:
    """(usage, resources it sets) of one container, in quota names."""
    res = container.get("resources") or {}
    usage: Usage = {}
    binary: set[str] = set()
    for section in ("requests", "limits"):
        for name, value in (res.get(section) or {}).items():
            try:
                amount = parse_quantity(value)
            except ValueError:
                continue
            keys = [f"{section}.{name}"]
            if section == "requests" and name in ("cpu", "memory", "ephemeral-storage"):
                keys.append(name)
            for key in keys:
                usage[key] = usage.get(key, 0.0) + amount
                if is_binary(value):
                    binary.add(key)
    return usage, binary


def pod_usage(pod: Obj) -> tuple[Usage, set[str]]:
    """What a pod counts against quota (nothing once finished): containers summed, init containers maxed."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return {}, set()
    spec = pod.get("spec") or {}
    total: Usage = {"pods": 1.0, "count/pods": 1.0}
    binary: set[str] = set()
    for c in spec.get("containers") or []:
        usage, b = _container_usage(c)
        binary |= b
        for k, v in usage.items():
            total[k] = total.get(k, 0.0) + v
    for c in spec.get("initContainers") or []:
        usage, b = _container_usage(c)
        binary |= b
        for k, v in usage.items():
            total[k] = max(total.get(k, 0.0), v)
    return total, binary


def object_usage(rt: ResourceType, obj: Obj) -> tuple[Usage, set[str]]:
    """What any object counts against quota."""
    if rt.key == PODS.key:
        return pod_usage(obj)
    count = f"count/{rt.plural}.{rt.group}" if rt.group else f"count/{rt.plural}"
    usage: Usage = {count: 1.0}
    if not rt.group and rt.plural in _COUNTED_CORE:
        usage[rt.plural] = 1.0
    binary: set[str] = set()
    spec = obj.get("spec") or {}
    if rt.key == PERSISTENTVOLUMECLAIMS.key:
        value = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        storage = parse_quantity(value) if value else 0.0
        usage["requests.storage"] = storage
        if is_binary(value):
            binary.add("requests.storage")
        cls = spec.get("storageClassName")
        if cls:
            usage[f"{cls}.storageclass.storage.k8s.io/requests.storage"] = storage
            usage[f"{cls}.storageclass.storage.k8s.io/persistentvolumeclaims"] = 1.0
    if rt.kind == "Service" and not rt.group:
        kind = spec.get("type", "ClusterIP")
        if kind == "LoadBalancer":
            usage["services.loadbalancers"] = 1.0
        if kind in ("NodePort", "LoadBalancer"):
            usage["services.nodeports"] = float(len(spec.get("ports") or []))
    return usage, binary


def scopes_match(quota: Obj, pod: Obj | None) -> bool:
    """Whether a quota's scopes select this object (scoped quotas only track pods)."""
    scopes = list((quota.get("spec") or {}).get("scopes") or [])
    for expr in ((quota.get("spec") or {}).get("scopeSelector") or {}).get("matchExpressions") or []:
        scopes.append(expr.get("scopeName", ""))
    if not scopes:
        return True
    if pod is None:
        return False
    spec = pod.get("spec") or {}
    terminating = spec.get("activeDeadlineSeconds") is not None
    best_effort = qos_class(spec) == "BestEffort"
    checks = {
        "Terminating": terminating,
        "NotTerminating": not terminating,
        "BestEffort": best_effort,
        "NotBestEffort": not best_effort,
    }
    return all(checks.get(scope, True) for scope in scopes)


def used(
    store: Store, registry: Registry, namespace: str, quota: Obj, skip: tuple[str, str] = ("", "")
) -> Usage:
    """What the namespace's objects use of `quota`'s resources now (`skip` one object by key, name)."""
    hard = (quota.get("spec") or {}).get("hard") or {}
    totals: Usage = dict.fromkeys(hard, 0.0)
    for rt in _counted_types(registry, hard):
        items, _ = store.list(rt, namespace, copy=False)
        for obj in items:
            if (rt.key, obj["metadata"]["name"]) == skip:
                continue
            if not scopes_match(quota, obj if rt.key == PODS.key else None):
                continue
            usage, _ = object_usage(rt, obj)
            for key in hard:
                totals[key] += usage.get(key, 0.0)
    return totals


def _counted_types(registry: Registry, hard: Iterable[str]) -> list[ResourceType]:
    names = set(hard)
    out = []
    for rt in registry.all():
        if not rt.namespaced or rt.kind == "Event":
            continue
        count = f"count/{rt.plural}.{rt.group}" if rt.group else f"count/{rt.plural}"
        core = not rt.group and rt.plural in _COUNTED_CORE and rt.plural in names
        compute = rt.key == PODS.key and bool(names - {count, "pods"})
        storage = rt.key == PERSISTENTVOLUMECLAIMS.key and any("storage" in n for n in names)
        services = rt.kind == "Service" and any(n.startswith("services.") for n in names)
        if count in names or core or compute or storage or services:
            out.append(rt)
    return out


def _show(key: str, value: float, binary: bool) -> str:
    if key in ("cpu",) or key.endswith(".cpu"):
        return format_quantity(value, False)
    if any(word in key for word in ("memory", "storage")):
        return format_quantity(value, binary)
    return format_quantity(value, False)


def _missing(quota_hard: Iterable[str], pod: Obj) -> str:
    required = COMPUTE.intersection(quota_hard)
    missing: dict[str, set[str]] = {}
    spec = pod.get("spec") or {}
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        usage, _ = _container_usage(c)
        for resource in required - set(usage):
            missing.setdefault(resource, set()).add(c.get("name", ""))
    return "; ".join(f"{r} for: {','.join(sorted(names))}" for r, names in sorted(missing.items()))


def check(store: Store, registry: Registry, rt: ResourceType, obj: Obj) -> str | None:
    """None when `obj` fits every quota of its namespace, else the reason the API server gives."""
    namespace = (obj.get("metadata") or {}).get("namespace", "")
    quotas, _ = store.list(RESOURCEQUOTAS, namespace, copy=False)
    if not quotas:
        return None
    requested, binary = object_usage(rt, obj)
    is_pod = rt.key == PODS.key
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        name = quota["metadata"]["name"]
        if not scopes_match(quota, obj if is_pod else None):
            continue
        if not set(hard) & set(requested) and not (is_pod and COMPUTE & set(hard)):
            continue
        if is_pod:
            missing = _missing(hard, obj)
            if missing:
                return f"failed quota: {name}: must specify {missing}"
        now = used(store, registry, namespace, quota, skip=(rt.key, obj["metadata"].get("name", "")))
        failed = sorted(
            key
            for key in hard
            if key in requested and now.get(key, 0.0) + requested[key] > parse_quantity(hard[key]) + 1e-9
        )
        if failed:

            def show(values: dict[str, float], keys: list[str], binary_keys: set[str]) -> str:
                return ",".join(f"{k}={_show(k, values.get(k, 0.0), k in binary_keys)}" for k in keys)

            limited = {k: parse_quantity(hard[k]) for k in failed}
            hard_binary = {k for k in failed if is_binary(hard[k])}
            used_text = show(now, failed, binary | hard_binary)
            return (
                f"exceeded quota: {name}, requested: {show(requested, failed, binary)}, "
                f"used: {used_text}, limited: {show(limited, failed, hard_binary)}"
            )
    return None
