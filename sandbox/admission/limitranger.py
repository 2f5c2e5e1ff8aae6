"""LimitRange: default requests and limits filled into a pod's containers, and the min/max/ratio
checks, worded like kube-apiserver's LimitRanger admission plugin ("maximum memory usage per
Container is 1Gi, but limit is 2Gi")."""

from __future__ import annotations

from typing import Any

from sandbox.controllers.quantity import format_quantity, is_binary, parse_quantity
from sandbox.resources import LIMITRANGES
from sandbox.store import Obj, Store


def _items(store: Store, namespace: str, kind: str) -> list[dict[str, Any]]:
    ranges, _ = store.list(LIMITRANGES, namespace, copy=False)
    return [
        item
        for lr in ranges
        for item in (lr.get("spec") or {}).get("limits") or []
        if isinstance(item, dict) and item.get("type") == kind
    ]


def default_pod(store: Store, pod: Obj) -> None:
    """Fill each container's missing limits from `default` and requests from `defaultRequest`."""
    items = _items(store, (pod.get("metadata") or {}).get("namespace", ""), "Container")
    if not items:
        return
    spec = pod.get("spec") or {}
    for c in [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]:
        res = c.setdefault("resources", {})
        for item in items:
            for section, source in (("limits", "default"), ("requests", "defaultRequest")):
                for name, value in (item.get(source) or {}).items():
                    res.setdefault(section, {}).setdefault(name, value)
    annotate = ", ".join(
        f"{section} {', '.join(sorted(item.get(source) or {}))}"
        for item in items
        for section, source in (("limit", "default"), ("request", "defaultRequest"))
        if item.get(source)
    )
    if annotate:
        meta = pod.setdefault("metadata", {})
        meta.setdefault("annotations", {})["kubernetes.io/limit-ranger"] = (
            f"LimitRanger plugin set: {annotate} for container "
            + ", ".join(c.get("name", "") for c in spec.get("containers") or [])
        )


def _show(value: Any) -> str:
    amount = parse_quantity(value)
    return format_quantity(amount, is_binary(value)) if isinstance(value, str) else str(value)


def _check(kind: str, resource: str, item: dict, request: Any, limit: Any) -> list[str]:
    errors = []
    lo = (item.get("min") or {}).get(resource)
    hi = (item.get("max") or {}).get(resource)
    ratio = (item.get("maxLimitRequestRatio") or {}).get(resource)
    if lo is not None:
        if request is None:
            errors.append(f"minimum {resource} usage per {kind} is {_show(lo)}.  No request is specified")
        elif parse_quantity(request) < parse_quantity(lo):
            errors.append(
                f"minimum {resource} usage per {kind} is {_show(lo)}, but request is {_show(request)}"
            )
        elif limit is not None and parse_quantity(limit) < parse_quantity(lo):
            errors.append(f"minimum {resource} usage per {kind} is {_show(lo)}, but limit is {_show(limit)}")
    if hi is not None:
        if limit is None:
            errors.append(f"maximum {resource} usage per {kind} is {_show(hi)}.  No limit is specified")
        elif parse_quantity(limit) > parse_quantity(hi):
            errors.append(f"maximum {resource} usage per {kind} is {_show(hi)}, but limit is {_show(limit)}")
        elif request is not None and parse_quantity(request) > parse_quantity(hi):
            errors.append(
                f"maximum {resource} usage per {kind} is {_show(hi)}, but request is {_show(request)}"
            )
    if ratio is not None and request is not None and limit is not None and parse_quantity(request) > 0:
        provided = parse_quantity(limit) / parse_quantity(request)
        if provided > parse_quantity(ratio):
            errors.append(
                f"{resource} max limit to request ratio per {kind} is {_show(ratio)}, "
                f"but provided ratio is {provided:f}"
            )
    return errors


def validate_pod(store: Store, pod: Obj) -> str | None:
    """None when the pod fits the namespace's LimitRanges, else the (aggregated) reason."""
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    errors: list[str] = []
    spec = pod.get("spec") or {}
    containers = spec.get("containers") or []
    for item in _items(store, namespace, "Container"):
        resources = sorted(
            {*(item.get("min") or {}), *(item.get("max") or {}), *(item.get("maxLimitRequestRatio") or {})}
        )
        for c in containers:
            res = c.get("resources") or {}
            for resource in resources:
                request = (res.get("requests") or {}).get(resource)
                limit = (res.get("limits") or {}).get(resource)
                errors += _check("Container", resource, item, request, limit)
    for item in _items(store, namespace, "Pod"):
        for resource in sorted({*(item.get("min") or {}), *(item.get("max") or {})}):
            requests = [((c.get("resources") or {}).get("requests") or {}).get(resource) for c in containers]
            limits = [((c.get("resources") or {}).get("limits") or {}).get(resource) for c in containers]
            request = (
                sum(parse_quantity(v) for v in requests) if all(v is not None for v in requests) else None
            )
            limit = sum(parse_quantity(v) for v in limits) if all(v is not None for v in limits) else None
            errors += _check("Pod", resource, item, request, limit)
    if not errors:
        return None
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
