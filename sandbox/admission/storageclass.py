"""DefaultStorageClass: a claim that names no class gets the cluster's default one."""

from __future__ import annotations

from sandbox.resources import STORAGECLASSES
from sandbox.store import Obj, Store

DEFAULT_ANNOTATION = "storageclass.kubernetes.io/is-default-class"


def default_class(store: Store) -> str | None:
    """The default StorageClass's name (the newest, when several claim to be it)."""
    classes, _ = store.list(STORAGECLASSES, copy=False)
    defaults = [
        c
        for c in classes
        if ((c["metadata"].get("annotations") or {}).get(DEFAULT_ANNOTATION) or "").lower() == "true"
    ]
    if not defaults:
        return None
    newest = max(defaults, key=lambda c: (c["metadata"].get("creationTimestamp", ""), c["metadata"]["name"]))
    return newest["metadata"]["name"]


def default_claim(store: Store, claim: Obj) -> None:
    """Set `spec.storageClassName` when it is absent (an empty string means "no class" and stays)."""
    spec = claim.setdefault("spec", {})
    if spec.get("storageClassName") is None:
        name = default_class(store)
        if name is not None:
            spec["storageClassName"] = name
