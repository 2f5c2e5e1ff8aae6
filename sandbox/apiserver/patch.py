"""The three patch types kube-apiserver accepts: strategic merge, JSON merge (RFC 7386), JSON patch.

Strategic merge follows the built-in types' merge keys: lists of containers, env, ports,
volumes, … merge item by item instead of being replaced, and `$patch` directives work.
"""

from __future__ import annotations

from typing import Any

import jsonpatch

from sandbox.store import ApiError, clone

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY = "application/apply-patch+yaml"

# Field name -> merge key, for lists that merge by key in the built-in kinds. The key is looked
# up by field name alone, which is how the built-in schemas use them (same name, same key).
# Lists not named here (args, command, tolerations, envFrom, …) are replaced whole, as in Kubernetes.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
# Service ports merge by port, not containerPort.
SERVICE_PORT_KEY = "port"
# Lists that merge as sets of scalars.
SET_LISTS = frozenset({"finalizers"})


def apply_patch(
    obj: dict[str, Any], patch_body: Any, content_type: str, *, builtin: bool, kind: str = ""
) -> dict:
    """Return `obj` patched; ApiError 415 for an unknown or unsupported type, 422 for a bad patch."""
    media = content_type.split(";")[0].strip().lower()
    if media == JSON_PATCH:
        if not isinstance(patch_body, list):
            raise ApiError(400, "BadRequest", "json patch must be a list of operations")
        try:
            return jsonpatch.apply_patch(clone(obj), patch_body)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
            raise ApiError(
                422, "Invalid", f"the server rejected our request due to an error in our request: {exc}"
            ) from None
    if not isinstance(patch_body, dict):
        raise ApiError(400, "BadRequest", "patch body must be a JSON object")
    if media == MERGE:
        return merge_patch(clone(obj), patch_body)
    if media == STRATEGIC:
        if not builtin:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                "strategic merge patch is not supported for custom resources; use a merge patch",
            )
        return strategic_merge(clone(obj), patch_body, service=(kind == "Service"))
    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: {media}")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return clone(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


def strategic_merge(target: Any, patch: Any, *, field: str = "", service: bool = False) -> Any:
    """Kubernetes' strategic merge: keyed lists merge by key; `$patch` and `$deleteFromPrimitiveList` work."""
    if not isinstance(patch, dict):
        return clone(patch)
    if patch.get("$patch") == "replace":
        return {k: clone(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    if not isinstance(target, dict):
        target = {}
    retain = patch.get("$retainKeys")
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.split("/", 1)[1]
            if isinstance(target.get(name), list) and isinstance(value, list):
                target[name] = [x for x in target[name] if x not in value]
            continue
        if key.startswith("$setElementOrder/") or key in ("$patch", "$retainKeys"):
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, list):
            target[key] = _merge_list(target.get(key), value, key, service)
        elif isinstance(value, dict):
            merged = strategic_merge(target.get(key), value, field=key, service=service)
            if merged is None:
                target.pop(key, None)
            else:
                target[key] = merged
        else:
            target[key] = value
    if isinstance(retain, list):
        for key in list(target):
            if key not in retain:
                del target[key]
    return target


def _merge_list(current: Any, patch: list, field: str, service: bool) -> list:
    key = SERVICE_PORT_KEY if (field == "ports" and service) else MERGE_KEYS.get(field)
    if field in SET_LISTS:
        base = list(current) if isinstance(current, list) else []
        return base + [x for x in patch if x not in base]
    if key is None or not all(isinstance(x, dict) for x in patch):
        if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
            return [clone(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
        return clone(patch)
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [clone(x) for x in patch if "$patch" not in x]
    result = [clone(x) for x in current] if isinstance(current, list) else []
    for item in patch:
        if key not in item:
            raise ApiError(422, "Invalid", f"map: {item} does not contain declared merge key: {key}")
        index = next(
            (i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                result.pop(index)
            continue
        if index is None:
            result.append(strategic_merge({}, item, field=field, service=service))
        else:
            result[index] = strategic_merge(result[index], item, field=field, service=service)
    return result
