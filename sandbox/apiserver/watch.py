"""Watch streams: store events, bridged from the store's thread into the server's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from sandbox.store import ApiError, ResourceType, Store, WatchEvent

BOOKMARK_SECONDS = 5.0

Obj = dict[str, Any]
# Turns an event's object into what goes on the wire (a one-row Table for kubectl; `first` says
# whether the column definitions still have to be sent).
Render = Callable[[Obj, bool], Obj]


def _line(event_type: str, obj: Obj) -> bytes:
    return orjson.dumps({"type": event_type, "object": obj}) + b"\n"


def _key(obj: Obj) -> tuple[str, str]:
    meta = obj["metadata"]
    return meta.get("namespace", ""), meta["name"]


class _Visibility:
    """Which objects this watcher can see, so a selector watch reports objects entering and leaving it.

    kube-apiserver compares each change's old and new object with the selector: an object that
    starts matching arrives as ADDED, one that stops matching leaves as DELETED. The store's events
    carry only the new object, so the stream remembers what it has shown. On a resumed watch the
    state at the starting version is unknown for objects changed after it; until their first
    event here they are reported as MODIFIED while they match and skipped otherwise.
    """

    def __init__(self, shown: set[tuple[str, str]], known: set[tuple[str, str]] | None) -> None:
        self._shown = shown
        self._known = known  # None: every object's state is known (the watch began with a list)

    def translate(self, event: WatchEvent, matches: bool) -> str | None:
        """The event type to send for this change, or None when the watcher must not see it."""
        key = _key(event.obj)
        was_shown = key in self._shown
        # An ADDED event means the object did not exist just before, which is knowledge too.
        known = self._known is None or key in self._known or event.type == "ADDED"
        if self._known is not None:
            self._known.add(key)
        if event.type == "DELETED":
            self._shown.discard(key)
            return "DELETED" if was_shown or (not known and matches) else None
        if matches:
            self._shown.add(key)
            return "ADDED" if known and not was_shown else "MODIFIED"
        self._shown.discard(key)
        return "DELETED" if was_shown else None


async def watch_stream(
    store: Store,
    rt: ResourceType,
    namespace: str | None,
    resource_version: str | None,
    matches: Callable[[Obj], bool],
    *,
    bookmarks: bool,
    timeout: float,
    shutdown: asyncio.Event,
    name: str | None = None,
    render: Render | None = None,
) -> AsyncIterator[bytes]:
    """Yield watch lines until the timeout, a shutdown or the client leaving.

    With no resourceVersion (or "0") the current objects come first as ADDED, like the real
    server; a version older than the store's history yields an ERROR event carrying 410 Expired.
    The subscription is dropped when the generator closes (Starlette cancels it on disconnect).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[WatchEvent] = asyncio.Queue()

    def deliver(event: WatchEvent) -> None:
        # Runs under the store lock in a writer's thread: hand over and return at once.
        loop.call_soon_threadsafe(queue.put_nowait, event)

    def wanted(obj: Obj) -> bool:
        return (name is None or obj["metadata"]["name"] == name) and matches(obj)

    initial: list[Obj] = []
    try:
        if resource_version in (None, "", "0"):
            initial, start_rv = store.list(rt, namespace, copy=False)
            visibility = _Visibility({_key(o) for o in initial if wanted(o)}, None)
            sub = store.subscribe(deliver, key=rt.key, namespace=namespace, since_rv=start_rv)
        else:
            try:
                start_rv = int(resource_version)
            except ValueError:
                raise ApiError(400, "BadRequest", f"invalid resourceVersion: {resource_version}") from None
            sub = store.subscribe(deliver, key=rt.key, namespace=namespace, since_rv=start_rv)
            # Objects untouched since the starting version were visible then iff they match now.
            current, _ = store.list(rt, namespace, copy=False)
            unchanged = [o for o in current if int(o["metadata"]["resourceVersion"]) <= start_rv]
            visibility = _Visibility({_key(o) for o in unchanged if wanted(o)}, {_key(o) for o in unchanged})
    except ApiError as exc:
        yield _line("ERROR", exc.status())
        return
    first = True

    def encode(event_type: str, obj: Obj) -> bytes:
        nonlocal first
        out = render(obj, first) if render else obj
        first = False
        return _line(event_type, out)

    last_rv = str(start_rv)
    try:
        for obj in initial:
            if wanted(obj):
                yield encode("ADDED", obj)
        deadline = loop.time() + timeout
        stop = asyncio.ensure_future(shutdown.wait())
        getter: asyncio.Future[WatchEvent] | None = None
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
                event_type = visibility.translate(event, wanted(event.obj))
                if event_type is not None:
                    yield encode(event_type, event.obj)
        finally:
            # A stream closed mid-wait (client gone, server shutting down) leaves its getter
            # pending; cancel it, or the loop reports "Task was destroyed but it is pending".
            if getter is not None and not getter.done():
                getter.cancel()
            stop.cancel()
    finally:
        store.unsubscribe(sub)
