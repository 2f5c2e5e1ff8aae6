"""CustomResourceDefinitions: turning a CRD object into the resource types it serves."""

from __future__ import annotations

from typing import Any

from sandbox.resources import CRDS, Registry
from sandbox.store import ApiError, ResourceType, Store


def types_of(crd: dict[str, Any]) -> list[ResourceType]:
    """The resource types a CRD serves (one per served version); ApiError 422 when it is malformed."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, plural, kind = spec.get("group"), names.get("plural"), names.get("kind")
    if not (group and plural and kind):
        raise ApiError(
            422,
            "Invalid",
            "CustomResourceDefinition is invalid: "
            "spec.group, spec.names.plural and spec.names.kind are required",
        )
    expected = f"{plural}.{group}"
    if crd.get("metadata", {}).get("name") != expected:
        raise ApiError(
            422,
            "Invalid",
            f'CustomResourceDefinition is invalid: metadata.name: Invalid value: must be "{expected}"',
        )
    versions = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not versions:
        raise ApiError(
            422, "Invalid", "CustomResourceDefinition is invalid: spec.versions: at least one is required"
        )
    out = []
    for version in versions:
        subresources: tuple[str, ...] = ("status",) if "status" in (version.get("subresources") or {}) else ()
        if "scale" in (version.get("subresources") or {}):
            subresources += ("scale",)
        out.append(
            ResourceType(
                group=group,
                version=version["name"],
                kind=kind,
                plural=plural,
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                singular=names.get("singular") or kind.lower(),
                subresources=subresources,
                categories=tuple(names.get("categories") or ()),
            )
        )
    return out


def register(registry: Registry, crd: dict[str, Any]) -> None:
    """Serve a CRD's types."""
    for rt in types_of(crd):
        registry.add(rt)


def unregister(registry: Registry, store: Store, crd: dict[str, Any]) -> None:
    """Stop serving a CRD's types and delete its custom objects, as the real server does."""
    types = types_of(crd)
    if types:
        items, _ = store.list(types[0], copy=False)
        for obj in items:
            meta = obj["metadata"]
            store.delete(types[0], meta.get("namespace", ""), meta["name"])
    for rt in types:
        registry.remove(rt.group, rt.version, rt.plural)


def load_existing(registry: Registry, store: Store) -> None:
    """Register every CRD already stored (an API server starting over an existing store)."""
    items, _ = store.list(CRDS, copy=False)
    for crd in items:
        try:
            register(registry, crd)
        except ApiError:
            continue  # a malformed stored CRD serves nothing, like a real server that rejects it


def printer_columns(store: Store, rt: ResourceType) -> list[dict[str, Any]] | None:
    """The additionalPrinterColumns a CRD declares for `rt`'s version; None for built-ins or none declared."""
    if not rt.group:
        return None
    crd = store.find(CRDS, "", f"{rt.plural}.{rt.group}", copy=False)
    if crd is None:
        return None
    for version in (crd.get("spec") or {}).get("versions") or []:
        if version.get("name") == rt.version:
            return version.get("additionalPrinterColumns") or None
    return None
