"""Apply one object from Git to the store the way client-side `kubectl apply` does.

A three-way merge of (live, last applied, desired): fields set in Git win, fields Git used to
set and no longer does are removed, everything else on the live object (server-set metadata,
status, fields other actors added such as a `rollout restart` annotation) is kept. Lists are
replaced whole. The desired object is recorded in `kubectl.kubernetes.io/last-applied-configuration`
so the next apply knows what Git owned; `argocd.argoproj.io/tracking-id` marks what this sync
created so prune only ever deletes its own objects.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.store import ApiError, ResourceType, Store, clone

Obj = dict[str, Any]
TRACKING_ANNOTATION = "argocd.argoproj.io/tracking-id"
LAST_APPLIED_ANNOTATION = "kubectl.kubernetes.io/last-applied-configuration"
_NOT_CONTENT = frozenset({"apiVersion", "kind", "metadata", "status"})
_MISSING = object()

Admit = Callable[[ResourceType, Obj], Obj]
"""Validates and defaults an object before it is written (raises ApiError to refuse it)."""


def tracking_id(app: str, rt: ResourceType, namespace: str, name: str) -> str:
    """Argo CD's annotation tracking id: `app:group/Kind:namespace/name`."""
    return f"{app}:{rt.group}/{rt.kind}:{namespace}/{name}"


def tracked_by(obj: Obj, app: str) -> bool:
    """True when `obj` carries the tracking annotation of `app`."""
    annotations = obj.get("metadata", {}).get("annotations") or {}
    return str(annotations.get(TRACKING_ANNOTATION, "")).startswith(f"{app}:")


def merge3(live: Any, last: Any, desired: Any) -> Any:
    """Three-way merge: `desired` wins, keys `last` had and `desired` dropped go, the rest of `live` stays."""
    if not isinstance(desired, dict) or not isinstance(live, dict):
        return clone(desired)
    previous = last if isinstance(last, dict) else {}
    merged = dict(live)
    for key in previous:
        if key not in desired:
            merged.pop(key, None)
    for key, value in desired.items():
        current = live.get(key, _MISSING)
        merged[key] = clone(value) if current is _MISSING else merge3(current, previous.get(key), value)
    return merged


def _canonical(obj: Obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def last_applied(live: Obj) -> Obj:
    """The desired object recorded by the previous apply ({} when none or unreadable)."""
    text = (live.get("metadata", {}).get("annotations") or {}).get(LAST_APPLIED_ANNOTATION)
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def prepare(desired: Obj, rt: ResourceType, default_namespace: str) -> Obj:
    """The object as it should be stored: namespace settled, apiVersion/kind canonical."""
    obj = clone(desired)
    meta = obj.setdefault("metadata", {})
    if rt.namespaced:
        meta["namespace"] = meta.get("namespace") or default_namespace
    else:
        meta.pop("namespace", None)
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind
    return obj


def merged_object(live: Obj, desired: Obj, app: str, rt: ResourceType) -> Obj:
    """`live` with `desired` applied over it (the object to write; equal to `live` when in sync)."""
    previous = last_applied(live)
    result = clone(live)
    for key in set(previous) - set(desired) - _NOT_CONTENT:
        result.pop(key, None)
    for key, value in desired.items():
        if key in _NOT_CONTENT:
            continue
        result[key] = (
            merge3(live.get(key, _MISSING), previous.get(key), value) if key in live else clone(value)
        )
    meta = result.setdefault("metadata", {})
    want_meta = desired.get("metadata", {})
    old_meta = previous.get("metadata", {})
    for field in ("labels", "annotations"):
        merged = merge3(meta.get(field) or {}, old_meta.get(field), want_meta.get(field) or {})
        if field == "annotations":
            ns = meta.get("namespace", "") if rt.namespaced else ""
            merged[TRACKING_ANNOTATION] = tracking_id(app, rt, ns, meta.get("name", ""))
            merged[LAST_APPLIED_ANNOTATION] = _canonical(desired)
        if merged:
            meta[field] = merged
        else:
            meta.pop(field, None)
    return result


def new_object(desired: Obj, app: str, rt: ResourceType) -> Obj:
    """The object to create when nothing is live yet."""
    obj = clone(desired)
    meta = obj["metadata"]
    annotations = dict(meta.get("annotations") or {})
    ns = meta.get("namespace", "") if rt.namespaced else ""
    annotations[TRACKING_ANNOTATION] = tracking_id(app, rt, ns, meta["name"])
    annotations[LAST_APPLIED_ANNOTATION] = _canonical(desired)
    meta["annotations"] = annotations
    for server_set in ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp"):
        meta.pop(server_set, None)
    obj.pop("status", None)
    return obj


@dataclass(frozen=True)
class Difference:
    """What applying would do to one object."""

    action: Literal["create", "update", "none"]
    live: Obj | None  # the store's object: read-only
    target: Obj | None  # what would be written (read-only: it shares parts of `live`)


def compare(store: Store, rt: ResourceType, desired: Obj, app: str, admit: Admit | None = None) -> Difference:
    """Compare the desired object (already `prepare`d) with the cluster.

    With `admit`, what the server would store is compared: Git leaves out the fields the server
    defaults (a port's `protocol: TCP`, a container's `imagePullPolicy`), and those are not drift
    (Argo CD normalises them too) - else every pass would re-apply, and record, a sync."""
    meta = desired["metadata"]
    # The store's own object, only read: merged_object works on a copy (Difference.live is read-only).
    live = store.find(rt, meta.get("namespace", ""), meta["name"], copy=False)
    if live is None:
        return Difference("create", None, new_object(desired, app, rt))
    target = merged_object(live, desired, app, rt)
    if target != live and admit is not None:
        try:
            if admit(rt, clone(target)) == live:
                return Difference("none", live, target)
        except ApiError:
            pass  # refused: applying reports why
    return Difference("none" if target == live else "update", live, target)


def apply(store: Store, rt: ResourceType, diff: Difference, admit: Admit | None = None) -> Obj | None:
    """Write what `compare` found (create, or update at the live resourceVersion); raises ApiError."""
    if diff.target is None or diff.action == "none":
        return diff.live
    if diff.action == "create":
        # The server allots the uid before admission (a Job's generated selector names it).
        uid = store.new_uid()
        target = clone(diff.target)
        target.setdefault("metadata", {})["uid"] = uid
        target = admit(rt, target) if admit else target
        return store.create(rt, target, uid=uid)
    # A copy: the target shares what Git does not set with the live (stored) object, and admission
    # defaults fields in place.
    target = admit(rt, clone(diff.target)) if admit else diff.target
    # The live resourceVersion is in the target, so a concurrent writer makes this a 409, not a lost update.
    return store.update(rt, target)


def is_conflict(exc: ApiError) -> bool:
    """409s are retried on the next pass rather than reported as failures."""
    return exc.code == 409
