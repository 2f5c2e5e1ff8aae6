"""A container's environment as the kubelet builds it: envFrom, env values and `$(VAR)` expansion,
ConfigMap/Secret keys, the downward API; a missing source is CreateContainerConfigError's message."""

from __future__ import annotations

import re

from sandbox.configdata import source_data
from sandbox.controllers.kubelet.runtime import PodRuntime
from sandbox.controllers.quantity import cpu_millis, memory_bytes
from sandbox.resources import CONFIGMAPS, SECRETS, ResourceType
from sandbox.store import Obj, Store


def resolve_env(store: Store, pod: Obj, container: dict, rt: PodRuntime) -> tuple[dict[str, str], str]:
    """(env, "") or ({}, the error CreateContainerConfigError reports)."""
    ns = rt.key[0]
    env: dict[str, str] = {}
    for src in container.get("envFrom") or []:
        prefix = src.get("prefix", "")
        for kind, rtype in (("configMapRef", CONFIGMAPS), ("secretRef", SECRETS)):
            ref = src.get(kind)
            obj, missing = _source(store, rtype, ns, ref)
            if missing:
                return {}, missing
            if obj is not None:
                env.update((prefix + k, v) for k, v in source_data(obj, rtype is SECRETS).items())
    for var in container.get("env") or []:
        name = var.get("name", "")
        if "value" in var or "valueFrom" not in var:
            env[name] = _expand(str(var.get("value", "")), env)
            continue
        vf = var["valueFrom"]
        for kind, rtype in (("configMapKeyRef", CONFIGMAPS), ("secretKeyRef", SECRETS)):
            ref = vf.get(kind)
            obj, missing = _source(store, rtype, ns, ref)
            if missing:
                return {}, missing
            if obj is None:
                if ref:
                    break  # optional and absent
                continue
            data = source_data(obj, rtype is SECRETS)
            if ref.get("key") not in data:
                if ref.get("optional"):
                    break
                return {}, f"couldn't find key {ref.get('key')} in {rtype.kind} {ns}/{ref.get('name')}"
            env[name] = data[ref["key"]]
        if "fieldRef" in vf:
            path = vf["fieldRef"].get("fieldPath", "")
            env[name] = {
                "metadata.name": rt.key[1],
                "metadata.namespace": ns,
                "spec.nodeName": rt.node,
                "status.podIP": rt.ip,
                "status.hostIP": rt.host_ip,
                "metadata.uid": rt.uid,
                "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", "default"),
            }.get(path, "")
        if "resourceFieldRef" in vf:
            res = vf["resourceFieldRef"].get("resource", "")
            kind, _, what = res.partition(".")
            val = ((container.get("resources") or {}).get(kind) or {}).get(what, "0")
            env[name] = str(memory_bytes(val) if what == "memory" else max(1, -(-cpu_millis(val) // 1000)))
    return env, ""


def _source(store: Store, rtype: ResourceType, ns: str, ref: Obj | None) -> tuple[Obj | None, str]:
    """The ConfigMap or Secret `ref` names: (it, ""); (None, "") without a ref or when an optional one is
    absent; else (None, the error)."""
    if not ref:
        return None, ""
    obj = store.find(rtype, ns, ref.get("name", ""), copy=False)
    if obj is None and not ref.get("optional"):
        return None, f'{rtype.singular} "{ref.get("name")}" not found'
    return obj, ""


_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _expand(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` expansion as the kubelet does it (unknown references stay as written)."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), value)
