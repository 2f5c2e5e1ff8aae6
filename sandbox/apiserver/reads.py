"""The read verbs: list (paged, selected, as a Table), get, watch and container logs."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from sandbox.apiserver import crds
from sandbox.apiserver.http import (
    LogSource,
    Target,
    decode_continue,
    json_response,
    predicate,
    truthy,
    wants_table,
)
from sandbox.apiserver.tables import to_table
from sandbox.apiserver.watch import watch_stream
from sandbox.store import ApiError, ResourceType, Store


class Reads:
    """GET handlers over the store."""

    def __init__(self, store: Store, log_source: LogSource | None) -> None:
        self.store = store
        self.log_source = log_source

    def list(self, request: Request, t: Target) -> Response:
        q = request.query_params
        items, rv = self.store.list(t.rt, t.namespace, predicate=predicate(request), copy=False)
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(q.get("limit") or 0)
        start = decode_continue(q.get("continue"))
        if limit > 0:
            page = items[start : start + limit]
            if start + limit < len(items):
                meta["continue"] = base64.urlsafe_b64encode(f"{start + limit}".encode()).decode()
                meta["remainingItemCount"] = len(items) - start - limit
            items = page
        if wants_table(request):
            include = q.get("includeObject", "Metadata")
            columns = crds.printer_columns(self.store, t.rt)
            return json_response(to_table(t.rt, items, str(rv), self.store.now(), include, columns))
        body = {"kind": t.rt.list_kind, "apiVersion": t.rt.api_version, "metadata": meta, "items": items}
        return json_response(body)

    def maybe_table(self, request: Request, rt: ResourceType, items: list, rv: str, single: bool) -> Response:
        if wants_table(request):
            include = request.query_params.get("includeObject", "Metadata")
            columns = crds.printer_columns(self.store, rt)
            return json_response(to_table(rt, items, rv, self.store.now(), include, columns))
        return json_response(items[0] if single else items)

    def watch(self, request: Request, t: Target, shutdown: asyncio.Event) -> Response:
        q = request.query_params
        field_sel = q.get("fieldSelector") or ""
        name = None
        # kubectl watches one object with metadata.name=…; serve it straight from the key.
        for clause in field_sel.split(","):
            if clause.startswith("metadata.name="):
                name = clause.split("=", 1)[1]
        render = None
        if wants_table(request):
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
            predicate(request),
            bookmarks=truthy(q.get("allowWatchBookmarks")),
            timeout=float(q.get("timeoutSeconds") or 1800),
            shutdown=shutdown,
            name=name,
            render=render,
        )
        return StreamingResponse(stream, media_type="application/json")

    def logs(self, request: Request, t: Target) -> Response:
        if self.log_source is None:
            raise ApiError(400, "BadRequest", "no logs are available in this cluster")
        q = request.query_params
        self.store.get(t.rt, t.namespace or "", t.name or "", copy=False)  # 404 for an unknown pod
        lines = self.log_source.read(
            t.namespace or "", t.name or "", q.get("container"), truthy(q.get("previous"))
        )
        if q.get("sinceSeconds"):
            since = self.store.now() - timedelta(seconds=int(q["sinceSeconds"]))
            lines = [(ts, text) for ts, text in lines if ts >= since]
        if q.get("tailLines"):
            tail = int(q["tailLines"])
            lines = lines[-tail:] if tail > 0 else []
        if truthy(q.get("timestamps")):
            text = "".join(f"{ts.strftime('%Y-%m-%dT%H:%M:%S.%fZ')} {line}\n" for ts, line in lines)
        else:
            text = "".join(f"{line}\n" for _, line in lines)
        if q.get("limitBytes"):
            text = text.encode()[: int(q["limitBytes"])].decode(errors="ignore")
        return PlainTextResponse(text)

    # --- writes ------------------------------------------------------------------------------
