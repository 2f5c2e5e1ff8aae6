"""Admission: what kube-apiserver's admission plugins do to an object between defaulting and storage.

`mutate` (DefaultStorageClass, LimitRanger defaults) and `check` (ServiceAccount, LimitRanger
limits, ResourceQuota) for requests through the API; `create` for the controllers, whose pods and claims go
through the same plugins on a real cluster. A refusal is a 403 Forbidden in the API server's words.
"""

from __future__ import annotations

from sandbox.admission import limitranger, quota, serviceaccount, storageclass
from sandbox.resources import PERSISTENTVOLUMECLAIMS, PODS, Registry
from sandbox.store import ApiError, Obj, ResourceType, Store


def forbidden(rt: ResourceType, name: str, reason: str) -> ApiError:
    """403 `pods "x" is forbidden: <reason>`."""
    res = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return ApiError(
        403, "Forbidden", f'{res} "{name}" is forbidden: {reason}', {"name": name, "kind": rt.plural}
    )


def mutate(store: Store, rt: ResourceType, obj: Obj) -> None:
    """The mutating plugins."""
    if rt.key == PERSISTENTVOLUMECLAIMS.key:
        storageclass.default_claim(store, obj)
    elif rt.key == PODS.key:
        limitranger.default_pod(store, obj)


def check(store: Store, registry: Registry, rt: ResourceType, obj: Obj, generate_name: str = "") -> None:
    """The validating plugins; raises 403 Forbidden. A refusal names the object, or its `generate_name`
    prefix when it was created with one (admission runs before the name is generated)."""
    meta = obj.get("metadata") or {}
    name = generate_name or meta.get("name") or meta.get("generateName", "")
    if rt.key == PODS.key:
        reason = serviceaccount.check_pod(store, obj) or limitranger.validate_pod(store, obj)
        if reason:
            raise forbidden(rt, name, reason)
    reason = quota.check(store, registry, rt, obj)
    if reason:
        raise forbidden(rt, name, reason)


def create(store: Store, registry: Registry, rt: ResourceType, obj: Obj, generate_name: str = "") -> Obj:
    """Admit and store an object a controller creates (as its request to the API server would be)."""
    mutate(store, rt, obj)
    check(store, registry, rt, obj, generate_name)
    return store.create(rt, obj)
