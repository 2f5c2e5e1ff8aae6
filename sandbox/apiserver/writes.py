"""The write verbs: create, update (/status, /scale too), patch, delete with propagation, deletecollection."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox import admission, garbage_collector
from sandbox.apiserver import crds
from sandbox.apiserver.defaults import apply_defaults, prepare_for_create
from sandbox.apiserver.http import (
    Target,
    as_object,
    check_preconditions,
    json_response,
    predicate,
    scale_of,
    truthy,
)
from sandbox.apiserver.patch import apply_patch
from sandbox.apiserver.validation import validate
from sandbox.resources import CRDS, NAMESPACES, Registry
from sandbox.store import ApiError, ResourceType, Store, clone, conflict


class Writes:
    """POST/PUT/PATCH/DELETE handlers over the store: namespace checks, defaults, validation, CRDs."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self.store = store
        self.registry = registry

    def _check_namespace(self, t: Target, obj: dict[str, Any]) -> None:
        meta = obj.setdefault("metadata", {})
        if not t.rt.namespaced:
            return
        if t.namespace is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if meta.get("namespace") and meta["namespace"] != t.namespace:
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        meta["namespace"] = t.namespace
        if t.rt.key != NAMESPACES.key and self.store.find(NAMESPACES, "", t.namespace, copy=False) is None:
            raise ApiError(
                404,
                "NotFound",
                f'namespaces "{t.namespace}" not found',
                {"name": t.namespace, "kind": "namespaces"},
            )

    def _validate(self, t: Target, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind and kind != t.rt.kind:
            raise ApiError(
                400, "BadRequest", f"the kind in the body ({kind}) does not match the URL ({t.rt.kind})"
            )
        if t.rt.key == CRDS.key:
            crds.types_of(obj)

    def create(self, t: Target, body: Any, dry_run: bool) -> Response:
        obj = as_object(body)
        self._check_namespace(t, obj)
        self._validate(t, obj)
        obj["metadata"].pop("uid", None)  # the server allots uids; a client's is ignored
        uid = self.store.new_uid()
        apply_defaults(t.rt.kind, obj)
        prepare_for_create(t.rt.kind, obj, uid)
        admission.mutate(self.store, t.rt, obj)
        validate(t.rt, obj)
        admission.check(self.store, self.registry, t.rt, obj)
        created = self.store.create(t.rt, obj, dry_run=dry_run, uid=uid)
        if t.rt.key == CRDS.key and not dry_run:
            crds.register(self.registry, created)
            created = self._crd_established(created)
        return json_response(created, 201)

    def _crd_established(self, crd: dict[str, Any]) -> dict[str, Any]:
        status = {
            "conditions": [
                {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts"},
                {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"},
            ],
            "acceptedNames": (crd.get("spec") or {}).get("names", {}),
            "storedVersions": [v["name"] for v in (crd.get("spec") or {}).get("versions") or []],
        }
        return self.store.update(CRDS, dict(crd, status=status), status_only=True)

    def update(self, t: Target, body: Any, dry_run: bool) -> Response:
        obj = as_object(body)
        self._check_namespace(t, obj)
        if obj["metadata"].get("name") not in (None, t.name):
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        obj["metadata"]["name"] = t.name
        if t.sub == "scale":
            return json_response(self._set_scale(t, obj, dry_run))
        self._validate(t, obj)
        if t.sub != "status":
            apply_defaults(t.rt.kind, obj)
            validate(t.rt, obj, self._defaulted(t))
        updated = self.store.update(t.rt, obj, dry_run=dry_run, status_only=t.sub == "status")
        if t.rt.key == CRDS.key and not dry_run:
            crds.register(self.registry, updated)
        return json_response(updated)

    def patch(self, request: Request, t: Target, body: Any, dry_run: bool) -> Response:
        content_type = request.headers.get("content-type", "")
        builtin = not any(t.rt.key == f"{c.group}/{c.plural}" for c in self._custom_types())
        for _ in range(5):  # retry on our own races with controllers, like the real server's patch loop
            current = self.store.get(t.rt, t.namespace or "", t.name or "")
            if t.sub == "scale":
                patched = apply_patch(scale_of(current), body, content_type, builtin=True, kind="Scale")
                return json_response(self._set_scale(t, patched, dry_run))
            patched = apply_patch(current, body, content_type, builtin=builtin, kind=t.rt.kind)
            if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
                raise ApiError(422, "Invalid", "the patch removed the object's metadata")
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
            patched["metadata"]["name"], patched["metadata"]["namespace"] = (
                t.name,
                current["metadata"].get("namespace"),
            )
            if not t.rt.namespaced:
                patched["metadata"].pop("namespace", None)
            if t.sub != "status":
                apply_defaults(t.rt.kind, patched)
                validate(t.rt, patched, apply_defaults(t.rt.kind, clone(current)))
            try:
                updated = self.store.update(t.rt, patched, dry_run=dry_run, status_only=t.sub == "status")
            except ApiError as exc:
                if exc.code == 409 and exc.reason == "Conflict":
                    continue
                raise
            return json_response(updated)
        raise ApiError(409, "Conflict", "the object kept changing; try again")

    def _defaulted(self, t: Target) -> dict[str, Any]:
        """The stored object with server defaults filled in, to compare an update against."""
        current = self.store.get(t.rt, t.namespace or "", t.name or "")
        return apply_defaults(t.rt.kind, current)

    def _set_scale(self, t: Target, scale: dict[str, Any], dry_run: bool) -> dict[str, Any]:
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422, "Invalid", "Scale.autoscaling is invalid: spec.replicas: must be a non-negative integer"
            )
        current = self.store.get(t.rt, t.namespace or "", t.name or "")
        sent_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise conflict(t.rt, t.name or "")
        current["spec"]["replicas"] = replicas
        updated = self.store.update(t.rt, current, dry_run=dry_run)
        return scale_of(updated)

    def delete(self, request: Request, t: Target, body: Any, dry_run: bool) -> Response:
        options = body if isinstance(body, dict) else {}
        policy = request.query_params.get("propagationPolicy") or options.get("propagationPolicy")
        if policy is None and (
            truthy(request.query_params.get("orphanDependents")) or options.get("orphanDependents") is True
        ):
            policy = "Orphan"
        if policy not in (None, "Background", "Foreground", "Orphan"):
            raise ApiError(
                400,
                "BadRequest",
                f'propagationPolicy: Unsupported value: "{policy}": supported values: '
                '"Foreground", "Background", "Orphan"',
            )
        namespace = t.namespace or ""
        current = self.store.get(t.rt, namespace, t.name or "", copy=False)
        check_preconditions(options.get("preconditions") or {}, current)
        uid = current["metadata"].get("uid", "")
        if not dry_run and policy == "Orphan":
            garbage_collector.orphan_dependents(self.store, self.registry, uid, namespace)
        elif not dry_run and policy == "Foreground":
            garbage_collector.delete_dependents(self.store, self.registry, uid, namespace)
        # Otherwise (Background, the default) the GarbageCollector follows the deletion event.
        deleted = self.store.delete(t.rt, namespace, t.name or "", dry_run=dry_run)
        if dry_run:
            return json_response(deleted)
        if t.rt.key == NAMESPACES.key:
            self._purge_namespace(t.name or "")
        if t.rt.key == CRDS.key:
            crds.unregister(self.registry, self.store, deleted)
        return json_response(deleted)

    def delete_collection(self, request: Request, t: Target, dry_run: bool) -> Response:
        items, rv = self.store.list(t.rt, t.namespace, predicate=predicate(request))
        for obj in items:
            self.store.delete(
                t.rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], dry_run=dry_run
            )
        return json_response(
            {
                "kind": t.rt.list_kind,
                "apiVersion": t.rt.api_version,
                "metadata": {"resourceVersion": str(rv)},
                "items": items,
            }
        )

    def _purge_namespace(self, namespace: str) -> None:
        for rt in self.registry.all():
            if not rt.namespaced:
                continue
            items, _ = self.store.list(rt, namespace, copy=False)
            for obj in items:
                try:
                    self.store.delete(rt, namespace, obj["metadata"]["name"])
                except ApiError:
                    continue  # already gone (garbage collection got there first)

    def _custom_types(self) -> list[ResourceType]:
        items, _ = self.store.list(CRDS, copy=False)
        out = []
        for crd in items:
            try:
                out.extend(crds.types_of(crd))
            except ApiError:
                continue
        return out
