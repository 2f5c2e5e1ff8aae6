"""The Kubernetes REST API over the store: routing to the read and write verbs, discovery, OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from sandbox.apiserver import aggregated_discovery, crds, discovery, openapi
from sandbox.apiserver.documents import DocumentCache
from sandbox.apiserver.http import (
    LogSource,
    Target,
    error_response,
    json_response,
    method_not_allowed,
    read_body,
    scale_of,
    truthy,
)
from sandbox.apiserver.reads import Reads
from sandbox.apiserver.writes import Writes
from sandbox.resources import Registry
from sandbox.store import ApiError, Store


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
        # Set from the serving thread's loop when the server stops: open watches end. (An Event binds
        # to a loop on first use, so it can be made here, before the loop exists.)
        self.shutdown = asyncio.Event()
        self.reads = Reads(store, log_source)
        self.writes = Writes(store, registry)
        self.documents = DocumentCache(registry)
        crds.load_existing(registry, store)

    # --- routing -----------------------------------------------------------------------------

    def app(self) -> Starlette:
        """The ASGI application."""
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        return Starlette(routes=[Route("/{path:path}", self.dispatch, methods=methods)])

    async def dispatch(self, request: Request) -> Response:
        """Route one request; every failure becomes a Status body."""
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
                return self._document(
                    ("resources", group, version),
                    lambda: discovery.resource_list(self.registry, group, version),
                )
            target = self._resolve(group, version, rest)
            return await self._verb(request, target)
        except ApiError as exc:
            return error_response(exc)

    def _special(self, request: Request, segments: list[str]) -> Response | None:
        path = "/" + "/".join(segments)
        if path in ("/healthz", "/readyz", "/livez"):
            return PlainTextResponse("ok")
        if path == "/version":
            return json_response(discovery.VERSION)
        if path == "/metrics":
            if self.metrics_source is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            return PlainTextResponse(self.metrics_source(), media_type="text/plain; version=0.0.4")
        if path in ("/api", "/apis"):
            return self._discovery(request, path)
        if segments[:1] == ["apis"] and len(segments) == 2:
            return self._document(
                ("group", segments[1]), lambda: discovery.api_group(self.registry, segments[1])
            )
        if segments[:1] == ["openapi"]:
            return self._document(
                ("openapi", *segments[1:]), lambda: openapi.document(self.registry, segments[1:])
            )
        return None

    def _discovery(self, request: Request, path: str) -> Response:
        """/api or /apis: aggregated when the client asks for it (kubectl does), else the legacy list."""
        core = path == "/api"
        version = aggregated_discovery.negotiate(request.headers.get("accept", ""))
        if version is None:
            return self._document(
                ("legacy", path),
                lambda: discovery.api_versions() if core else discovery.api_groups(self.registry),
            )
        body = self.documents.get(
            ("aggregated", path, version),
            lambda: aggregated_discovery.group_list(self.registry, version, core=core),
        )
        return Response(
            body, media_type=aggregated_discovery.content_type(version), headers={"Vary": "Accept"}
        )

    def _document(self, key: tuple[str, ...], build: Callable[[], dict[str, Any] | None]) -> Response:
        """A cached discovery or OpenAPI document; 404 when there is none at that path."""
        body = self.documents.get(key, build)
        if body is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        return Response(body, media_type="application/json")

    def _resolve(self, group: str, version: str, rest: list[str]) -> Target:
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
        return Target(rt, namespace, name, sub)

    async def _verb(self, request: Request, t: Target) -> Response:
        method, q = request.method, request.query_params
        dry_run = "All" in q.getlist("dryRun")
        if t.sub is not None and (method in ("POST", "DELETE") or (t.sub == "log" and method != "GET")):
            raise method_not_allowed()
        if method == "GET":
            if t.name is None:
                if truthy(q.get("watch")):
                    return self.reads.watch(request, t, self.shutdown)
                return self.reads.list(request, t)
            if t.sub == "log":
                return self.reads.logs(request, t)
            obj = self.store.get(t.rt, t.namespace or "", t.name, copy=False)
            if t.sub == "scale":
                return json_response(scale_of(obj))
            return self.reads.maybe_table(
                request, t.rt, [obj], obj["metadata"]["resourceVersion"], single=True
            )
        body = await read_body(request)
        if method == "DELETE":
            if t.name is None:
                return self.writes.delete_collection(request, t, dry_run)
            return self.writes.delete(request, t, body, dry_run)
        if method == "POST":
            if t.name is not None:
                raise method_not_allowed()
            return self.writes.create(t, body, dry_run)
        if t.name is None:
            raise method_not_allowed()
        if method == "PUT":
            return self.writes.update(t, body, dry_run)
        return self.writes.patch(request, t, body, dry_run)

    # --- reads -------------------------------------------------------------------------------
