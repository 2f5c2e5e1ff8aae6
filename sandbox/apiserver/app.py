"""The Kubernetes REST API over the store: routing, verbs, subresources and Status errors."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

import orjson
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from sandbox import garbage_collector
from sandbox.apiserver import crds, discovery, openapi
from sandbox.apiserver.defaults import apply_defaults
from sandbox.apiserver.patch import apply_patch
from sandbox.apiserver.tables import to_table
from sandbox.apiserver.validation import validate
from sandbox.apiserver.watch import watch_stream
from sandbox.resources import CRDS, NAMESPACES, Registry
from sandbox.selectors import parse_field_selector, parse_label_selector
from sandbox.store import ApiError, ResourceType, Store, clone, conflict


class LogSource(Protocol):
    """Where container logs come from (the simulated kubelet)."""

    def read(
        self, namespace: str, pod: str, container: str | None = None, previous: bool = False
    ) -> list: ...


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _error(exc: ApiError) -> Response:
    return _json(exc.status(), exc.code)


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


class _Target:
    """A parsed resource path."""

    def __init__(self, rt: ResourceType, namespace: str | None, name: str | None, sub: str | None):
        self.rt, self.namespace, self.name, self.sub = rt, namespace, name, sub


class KubeApi:
    """Request handling; one instance per server."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        log_source: LogSource | None = None,
        metrics_source: Callable[[], str] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.log_source = log_source
        self.metrics_source = metrics_source
        self.shutdown: asyncio.Event | None = None
        crds.load_existing(registry, store)

    # --- routing -----------------------------------------------------------------------------

    def app(self) -> Starlette:
        """The ASGI application."""
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.dispatch, methods=methods)])

    async def dispatch(self, request: Request) -> Response:
        """Route one request; every failure becomes a Status body."""
        if self.shutdown is None:
            self.shutdown = asyncio.Event()
        segments = [s for s in request.url.path.split("/") if s]
        try:
            special = self._special(request, segments)
            if special is not None:
                return special
            if segments[:1] == ["api"] and len(segments) >= 2:
                group, version, rest = "", segments[1], segments[2:]
            elif segments[:1] == ["apis"] and len(segments) >= 3:
                group, version, rest = segments[1], segments[2], segments[3:]
            else:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if not rest:
                doc = discovery.resource_list(self.registry, group, version)
                if doc is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                return _json(doc)
            target = self._resolve(group, version, rest)
            return await self._verb(request, target)
        except ApiError as exc:
            return _error(exc)

    def _special(self, request: Request, segments: list[str]) -> Response | None:
        path = "/" + "/".join(segments)
        if path in ("/healthz", "/readyz", "/livez"):
            return PlainTextResponse("ok")
        if path == "/version":
            return _json(discovery.VERSION)
        if path == "/metrics":
            if self.metrics_source is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return PlainTextResponse(self.metrics_source(), media_type="text/plain; version=0.0.4")
        if path == "/api":
            return _json(discovery.api_versions())
        if path == "/apis":
            return _json(discovery.api_groups(self.registry))
        if segments[:1] == ["apis"] and len(segments) == 2:
            doc = discovery.api_group(self.registry, segments[1])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return _json(doc)
        if segments[:1] == ["openapi"]:
            doc = openapi.document(self.registry, segments[1:])
            if doc is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return _json(doc)
        return None

    def _resolve(self, group: str, version: str, rest: list[str]) -> _Target:
        namespace = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            candidate = self.registry.lookup(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        rt = self.registry.lookup(group, version, rest[0])
        if rt is None or len(rest) > 3:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if sub is not None and sub not in rt.subresources:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return _Target(rt, namespace, name, sub)

    async def _verb(self, request: Request, t: _Target) -> Response:
        method, q = request.method, request.query_params
        dry_run = "All" in q.getlist("dryRun")
        if t.sub is not None and (method in ("POST", "DELETE") or (t.sub == "log" and method != "GET")):
            raise _method_not_allowed()
        if method == "GET":
            if t.name is None:
                if _truthy(q.get("watch")):
                    return self._watch(request, t)
                return self._list(request, t)
            if t.sub == "log":
                return self._logs(request, t)
            obj = self.store.get(t.rt, t.namespace or "", t.name, copy=False)
            if t.sub == "scale":
                return _json(_scale_of(obj))
            return self._maybe_table(request, t.rt, [obj], obj["metadata"]["resourceVersion"], single=True)
        body = await _body(request)
        if method == "DELETE":
            if t.name is None:
                return self._delete_collection(request, t, dry_run)
            return self._delete(request, t, body, dry_run)
        if method == "POST":
            if t.name is not None:
                raise _method_not_allowed()
            return self._create(t, body, dry_run)
        if t.name is None:
            raise _method_not_allowed()
        if method == "PUT":
            return self._update(t, body, dry_run)
        return self._patch(request, t, body, dry_run)

    # --- reads -------------------------------------------------------------------------------

    def _predicate(self, request: Request) -> Callable[[dict[str, Any]], bool]:
        labels = parse_label_selector(request.query_params.get("labelSelector"))
        fields = parse_field_selector(request.query_params.get("fieldSelector"))

        def matches(obj: dict[str, Any]) -> bool:
            return labels.matches(obj.get("metadata", {}).get("labels") or {}) and fields.matches(obj)

        return matches

    def _list(self, request: Request, t: _Target) -> Response:
        q = request.query_params
        items, rv = self.store.list(t.rt, t.namespace, predicate=self._predicate(request), copy=False)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(q.get("limit") or 0)
        start = _decode_continue(q.get("continue"))
        if limit > 0:
            page = items[start : start + limit]
            if start + limit < len(items):
                meta["continue"] = base64.urlsafe_b64encode(f"{start + limit}".encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = page
        if _wants_table(request):
            include = q.get("includeObject", "Metadata")
            columns = crds.printer_columns(self.store, t.rt)
            return _json(to_table(t.rt, items, str(rv), self.store.now(), include, columns))
        body = {"kind": t.rt.list_kind, "apiVersion": t.rt.api_version, "metadata": meta, "items": items}
        return _json(body)

    def _maybe_table(
        self, request: Request, rt: ResourceType, items: list, rv: str, single: bool
    ) -> Response:
        if _wants_table(request):
            include = request.query_params.get("includeObject", "Metadata")
            columns = crds.printer_columns(self.store, rt)
            return _json(to_table(rt, items, rv, self.store.now(), include, columns))
        return _json(items[0] if single else items)

    def _watch(self, request: Request, t: _Target) -> Response:
        q = request.query_params
        field_sel = q.get("fieldSelector") or ""
        name = None
        # kubectl watches one object with metadata.name=…; serve it straight from the key.
        for clause in field_sel.split(","):
            if clause.startswith("metadata.name="):
                name = clause.split("=", 1)[1]
        assert self.shutdown is not None
        render = None
        if _wants_table(request):
            include = q.get("includeObject", "Metadata")
            columns = crds.printer_columns(self.store, t.rt)

            def render(obj: dict[str, Any], first: bool) -> dict[str, Any]:
                # Column definitions travel with the first event only, as kube-apiserver does.
                rv = obj["metadata"]["resourceVersion"]
                table = to_table(t.rt, [obj], rv, self.store.now(), include, columns)
                if not first:
                    table["columnDefinitions"] = []
                return table

        stream = watch_stream(
            self.store,
            t.rt,
            t.namespace,
            q.get("resourceVersion"),
            self._predicate(request),
            bookmarks=_truthy(q.get("allowWatchBookmarks")),
            timeout=float(q.get("timeoutSeconds") or 1800),
            shutdown=self.shutdown,
            name=name,
            render=render,
        )
        return StreamingResponse(stream, media_type="application/json")

    def _logs(self, request: Request, t: _Target) -> Response:
        if self.log_source is None:
            raise ApiError(400, "BadRequest", "no logs are available in this cluster")
        q = request.query_params
        self.store.get(t.rt, t.namespace or "", t.name or "", copy=False)  # 404 for an unknown pod
        lines = self.log_source.read(
            t.namespace or "", t.name or "", q.get("container"), _truthy(q.get("previous"))
        )
        if q.get("sinceSeconds"):
            since = self.store.now() - timedelta(seconds=int(q["sinceSeconds"]))
            lines = [(ts, text) for ts, text in lines if ts >= since]
        if q.get("tailLines"):
            tail = int(q["tailLines"])
            lines = lines[-tail:] if tail > 0 else []
        if _truthy(q.get("timestamps")):
            text = "".join(f"{ts.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {line}\n" for ts, line in lines)
        else:
            text = "".join(f"{line}\n" for _, line in lines)
        if q.get("limitBytes"):
            text = text.encode()[: int(q["limitBytes"])].decode(errors="ignore")
        return PlainTextResponse(text)

    # --- writes ------------------------------------------------------------------------------

    def _check_namespace(self, t: _Target, obj: dict[str, Any]) -> None:
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

    def _validate(self, t: _Target, obj: dict[str, Any]) -> None:
        kind = obj.get("kind")
        if kind and kind != t.rt.kind:
            raise ApiError(
                400, "BadRequest", f"the kind in the body ({kind}) does not match the URL ({t.rt.kind})"
            )
        if t.rt.key == CRDS.key:
            crds.types_of(obj)

    def _create(self, t: _Target, body: Any, dry_run: bool) -> Response:
        obj = _object(body)
        self._check_namespace(t, obj)
        self._validate(t, obj)
        apply_defaults(t.rt.kind, obj)
        validate(t.rt, obj)
        created = self.store.create(t.rt, obj, dry_run=dry_run)
        if t.rt.key == CRDS.key and not dry_run:
            crds.register(self.registry, created)
            created = self._crd_established(created)
        return _json(created, 201)

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

    def _update(self, t: _Target, body: Any, dry_run: bool) -> Response:
        obj = _object(body)
        self._check_namespace(t, obj)
        if obj["metadata"].get("name") not in (None, t.name):
            raise ApiError(400, "BadRequest", "the name of the object does not match the name on the URL")
        obj["metadata"]["name"] = t.name
        if t.sub == "scale":
            return _json(self._set_scale(t, obj, dry_run))
        self._validate(t, obj)
        if t.sub != "status":
            apply_defaults(t.rt.kind, obj)
            validate(t.rt, obj, self._defaulted(t))
        updated = self.store.update(t.rt, obj, dry_run=dry_run, status_only=t.sub == "status")
        if t.rt.key == CRDS.key and not dry_run:
            crds.register(self.registry, updated)
        return _json(updated)

    def _patch(self, request: Request, t: _Target, body: Any, dry_run: bool) -> Response:
        content_type = request.headers.get("content-type", "")
        builtin = not any(t.rt.key == f"{c.group}/{c.plural}" for c in self._custom_types())
        for _ in range(5):  # retry on our own races with controllers, like the real server's patch loop
            current = self.store.get(t.rt, t.namespace or "", t.name or "")
            if t.sub == "scale":
                patched = apply_patch(_scale_of(current), body, content_type, builtin=True, kind="Scale")
                return _json(self._set_scale(t, patched, dry_run))
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
            return _json(updated)
        raise ApiError(409, "Conflict", "the object kept changing; try again")

    def _defaulted(self, t: _Target) -> dict[str, Any]:
        """The stored object with server defaults filled in, to compare an update against."""
        current = self.store.get(t.rt, t.namespace or "", t.name or "")
        return apply_defaults(t.rt.kind, current)

    def _set_scale(self, t: _Target, scale: dict[str, Any], dry_run: bool) -> dict[str, Any]:
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
        return _scale_of(updated)

    def _delete(self, request: Request, t: _Target, body: Any, dry_run: bool) -> Response:
        options = body if isinstance(body, dict) else {}
        policy = request.query_params.get("propagationPolicy") or options.get("propagationPolicy")
        if policy is None and (
            _truthy(request.query_params.get("orphanDependents")) or options.get("orphanDependents") is True
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
        _check_preconditions(options.get("preconditions") or {}, current)
        uid = current["metadata"].get("uid", "")
        if not dry_run and policy == "Orphan":
            garbage_collector.orphan_dependents(self.store, self.registry, uid, namespace)
        elif not dry_run and policy == "Foreground":
            garbage_collector.delete_dependents(self.store, self.registry, uid, namespace)
        # Otherwise (Background, the default) the GarbageCollector follows the deletion event.
        deleted = self.store.delete(t.rt, namespace, t.name or "", dry_run=dry_run)
        if dry_run:
            return _json(deleted)
        if t.rt.key == NAMESPACES.key:
            self._purge_namespace(t.name or "")
        if t.rt.key == CRDS.key:
            crds.unregister(self.registry, self.store, deleted)
        return _json(deleted)

    def _delete_collection(self, request: Request, t: _Target, dry_run: bool) -> Response:
        items, rv = self.store.list(t.rt, t.namespace, predicate=self._predicate(request))
        for obj in items:
            self.store.delete(
                t.rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"], dry_run=dry_run
            )
        return _json(
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


def _method_not_allowed() -> ApiError:
    message = "the server does not allow this method on the requested resource"
    return ApiError(405, "MethodNotAllowed", message)


def _check_preconditions(preconditions: dict[str, Any], current: dict[str, Any]) -> None:
    """DeleteOptions.preconditions: 409 when the stored object is not the one the client meant."""
    meta = current["metadata"]
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field)
        if wanted and wanted != meta.get(field):
            raise ApiError(
                409,
                "Conflict",
                f"Precondition failed: {label} in precondition: {wanted}, {label} in object meta: "
                f"{meta.get(field)}",
            )


def _wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


def _decode_continue(token: str | None) -> int:
    if not token:
        return 0
    try:
        return max(0, int(base64.urlsafe_b64decode(token.encode()).decode()))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "BadRequest", "invalid continue token") from None


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    content_type = request.headers.get("content-type", "")
    try:
        if "yaml" in content_type:
            return yaml.safe_load(raw)
        return orjson.loads(raw)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise ApiError(400, "BadRequest", f"the body of the request could not be decoded: {exc}") from None


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, "BadRequest", "the body of the request must be an object")
    obj = clone(body)
    if not isinstance(obj.get("metadata", {}), dict):
        raise ApiError(400, "BadRequest", "metadata must be an object")
    return obj


def _scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "resourceVersion": meta.get("resourceVersion"),
            "creationTimestamp": meta.get("creationTimestamp"),
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": ",".join(f"{k}={v}" for k, v in labels.items()),
        },
    }
