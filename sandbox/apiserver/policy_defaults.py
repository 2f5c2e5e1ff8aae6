"""Defaults of the storage, policy and networking kinds, as kube-apiserver's defaulting sets them."""

from __future__ import annotations

import base64
from typing import Any

Obj = dict[str, Any]


def secret(obj: Obj) -> None:
    """Type Opaque; `stringData` is merged into `data` (base64) and dropped, as the API server does."""
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None)
    if isinstance(string_data, dict):
        data = obj.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def persistentvolumeclaim(obj: Obj) -> None:
    """volumeMode Filesystem, phase Pending until bound."""
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def persistentvolume(obj: Obj) -> None:
    """Retain unless said otherwise, Filesystem, phase Pending until available."""
    spec = obj.setdefault("spec", {})
    spec.setdefault("persistentVolumeReclaimPolicy", "Retain")
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def storageclass(obj: Obj) -> None:
    """reclaimPolicy Delete, volumeBindingMode Immediate."""
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def limitrange(obj: Obj) -> None:
    """Container items: default limit from max, defaultRequest from default, else from min."""
    for item in (obj.get("spec") or {}).get("limits") or []:
        if not isinstance(item, dict) or item.get("type") != "Container":
            continue
        default = item.setdefault("default", {})
        request = item.setdefault("defaultRequest", {})
        for key, value in (item.get("max") or {}).items():
            default.setdefault(key, value)
        for key, value in default.items():
            request.setdefault(key, value)
        for key, value in (item.get("min") or {}).items():
            request.setdefault(key, value)
        if not default:
            del item["default"]
        if not request:
            del item["defaultRequest"]


def horizontalpodautoscaler(obj: Obj) -> None:
    """minReplicas 1."""
    obj.setdefault("spec", {}).setdefault("minReplicas", 1)


def networkpolicy(obj: Obj) -> None:
    """policyTypes: Ingress, plus Egress when egress rules are given."""
    spec = obj.setdefault("spec", {})
    if "policyTypes" not in spec:
        spec["policyTypes"] = ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]
    spec.setdefault("podSelector", {})
