"""Watch streams: store events, bridged from the store's thread into the server's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from sandbox.store import ApiError, ResourceType, Store, WatchEvent

BOOKMARK_SECONDS = 5.0


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


async def watch_stream(
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    resource_version: str | None,
    matches: Callable[[dict[str, Any]], bool],
    *,
    bookmarks: bool,
    timeout: float,
    shutdown: asyncio.Event,
    name: str | None = None,
) -> AsyncIterator[bytes]:
    """Yield watch lines until the timeout, a shutdown or the client leaving.

    With no resourceVersion (or "0") the current objects come first as ADDED, like the real
    server; a version older than the store's history yields an ERROR event carrying 410 Expired.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

    def deliver(event: WatchEvent) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def wanted(obj: dict[str, Any]) -> bool:
        return (name is None or obj["metadata"]["name"] == name) and matches(obj)

    initial: list[dict[str, Any]] = []
    try:
        if resource_version in (None, "", "0"):
            initial, list_rv = store.list(rt, namespace, copy=False)
            sub = store.subscribe(deliver, key=rt.key, namespace=namespace, since_rv=list_rv)
        else:
            try:
                since = int(resource_version)
            except ValueError:
                raise ApiError(400, "BadRequest", f"invalid resourceVersion: {resource_version}") from None
            sub = store.subscribe(deliver, key=rt.key, namespace=namespace, since_rv=since)
    except ApiError as exc:
        yield _line("ERROR", exc.status())
        return
    last_rv = str(store.resource_version)
    try:
        for obj in initial:
            if wanted(obj):
                yield _line("ADDED", obj)
        deadline = loop.time() + timeout
        stop = asyncio.ensure_future(shutdown.wait())
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0 or shutdown.is_set():
                    return
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, stop},
                    timeout=min(remaining, BOOKMARK_SECONDS),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if getter not in done:
                    getter.cancel()
                    if bookmarks and not shutdown.is_set():
                        mark = {
                            "kind": rt.kind,
                            "apiVersion": rt.api_version,
                            "metadata": {"resourceVersion": last_rv},
                        }
                        yield _line("BOOKMARK", mark)
                    continue
                event = getter.result()
                last_rv = str(event.rv)
                if wanted(event.obj):
                    yield _line(event.type, event.obj)
        finally:
            stop.cancel()
    finally:
        store.unsubscribe(sub)
