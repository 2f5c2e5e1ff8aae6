"""Server-sent event streams over the run store: replay what is stored, then follow live appends.

A stream never keeps events in memory beyond one page: it reads the store from the last id it
sent, and sleeps on `wait_for_events_async` when caught up, so a reconnect with `Last-Event-ID`
resumes exactly after the last event the client saw (no gaps, no duplicates).

Fan-out: subscribers at the same position share one store read (`SingleFlight`), and that read
is encoded once, into one `Chunk` of SSE wire bytes holding every event it found; each of them
writes those same bytes (one write per wake-up, however many events arrived meanwhile). The
per-subscriber work is thus a write, not a JSON dump and an SSE encoding per event, which is
what kept 1,000 subscribers from keeping up (docs/benchmarks.md). Other replicas' appends wake
the streams through the store (PostgreSQL LISTEN/NOTIFY; SQLite polls). The stream's hub
(server/sse_hub.py) is its subscribers' only clock: it checks the run's status and the server's
shutdown for all of them and ticks for their keep-alive comments, so an idle subscriber costs
no timer and no wake-up of its own; server/sse_response.py writes what the stream yields.

Tunables live in `context.extras`: `sse_ping` (seconds of silence before a keep-alive comment,
default 15; 0: none) and `sse_poll` (how often a caught-up stream's hub re-reads the run's
status and checks for shutdown, default 1 s: a status change without a new event wakes nobody,
and the stream must close on a final one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sse_starlette import ServerSentEvent
from sse_starlette.sse import AppStatus

from agent.trace import TraceEvent
from server.context import ServerContext
from server.prometheus_exporter import metrics_of
from server.runstore import ACTIVE_STATUSES
from server.sse_hub import Chunk, Hub, Hubs, Idle

PAGE = 500
DEFAULT_PING = 15.0
DEFAULT_POLL = 1.0
END_EVENT = "end"
MAX_EVENT_ID = 2**63 - 1
T = TypeVar("T")


def ping_interval(context: ServerContext) -> float:
    """Seconds between keep-alive pings (`extras["sse_ping"]`)."""
    return float(context.extras.get("sse_ping", DEFAULT_PING))


def _poll_interval(context: ServerContext) -> float:
    return float(context.extras.get("sse_poll", DEFAULT_POLL))


def resume_point(last_event_id: str | None, after: int | None) -> int:
    """Where to resume: the `Last-Event-ID` header wins over `?after=`.

    A browser's EventSource reconnects to the same URL (same `after`) with the header set to
    the last id it received, which is the newer of the two; 400 for a header that is not an id.
    """
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not text.isdigit() or int(text) > MAX_EVENT_ID:
            raise HTTPException(
                status.HTTP_400_BAD_REQUEST,
                detail=f"Last-Event-ID must be a non-negative event id, got {last_event_id!r}",
            )
        return int(text)
    return after or 0


def _message(event: TraceEvent, event_id: int) -> bytes:
    """One trace event as SSE wire bytes (`id`, `event`, `data`)."""
    return ServerSentEvent(data=event.model_dump_json(), event=event.type.value, id=str(event_id)).encode()


class SingleFlight:
    """Concurrent identical store calls share one: N subscribers at the same point cost one query.

    Subscribers of a run are usually all caught up at the same seq, so each new event would
    otherwise cost N reads, N status reads and N wake-up checks. A shared call runs as its own
    task, shielded: one subscriber disconnecting cancels its wait, not the others' result.
    """

    def __init__(self) -> None:
        self._inflight: dict[Hashable, asyncio.Task[Any]] = {}

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """The result of `call()`, or of the identical call already in flight."""
        key = (id(asyncio.get_running_loop()), key)  # tasks belong to one loop
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(call())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        return await asyncio.shield(task)

    def _done(self, key: Hashable, task: asyncio.Task[Any]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled():
            task.exception()  # retrieved: when every waiter left, nobody else would

    def __len__(self) -> int:
        return len(self._inflight)


def single_flight(context: ServerContext) -> SingleFlight:
    """The context's shared `SingleFlight` (in `extras["sse_single_flight"]`)."""
    return context.extras.setdefault("sse_single_flight", SingleFlight())


async def _page(context: ServerContext, inline: bool, after: int, call: Any, **kwargs: Any) -> Chunk:
    """The events after `after`, read and encoded once for every reader at that position."""
    per_run = "run_id" in kwargs

    def read() -> Chunk:
        batch = call(**kwargs)
        if inline:
            batch = [context.store.inline_event(e) for e in batch]
        messages = []
        for event in batch:
            position = (event.seq if per_run else event.id) or 0
            messages.append((position, _message(event, position)))
        return Chunk.of(after, messages)

    key = ("page", call.__name__, inline, *sorted(kwargs.items()))
    return await single_flight(context).run(key, lambda: asyncio.to_thread(read))


def hubs(context: ServerContext) -> Hubs:
    """The context's SSE hubs (in `extras["sse_hubs"]`)."""
    return context.extras.setdefault("sse_hubs", Hubs())


PING = b": ping\r\n\r\n"


def _closing() -> bool:
    # sse-starlette patches uvicorn's exit handler to raise this process-wide flag on SIGTERM or
    # Ctrl-C; uvicorn then waits for open responses, and an endless stream must end by itself.
    return AppStatus.should_exit


async def _follow(
    context: ServerContext, key: tuple[str, ...], after: int, read: Callable[[int], Awaitable[Chunk]],
    wait: Callable[[int, float], Awaitable[bool]], idle: Idle | None = None,
) -> AsyncGenerator[bytes, None]:  # fmt: skip
    """The stream `key` ("run" or "all" first) after `after`: from the hub when within its reach,
    else from the store; `idle`, asked when caught up, may end the stream with a last message
    (the hub asks it for everyone at its position; a subscriber out of its reach asks for itself).

    The response iterates this generator itself (no wrapper generator: at 1,000 subscribers
    every layer is paid a thousand times per event).
    """

    def make() -> Hub:
        poll, ping = _poll_interval(context), ping_interval(context)
        return Hub(after, read, wait, poll, idle=idle, ping=ping, closing=_closing)

    with metrics_of(context.extras).subscriber(key[0]):
        async with hubs(context).join(key, make) as hub:
            last, ticks = after, hub.ticks
            while True:
                version = hub.version
                held = hub.after(last)
                if held is None:  # behind the hub's chunks or ahead of the hub: read the store ourselves
                    chunk = await read(last)
                    if chunk.count:
                        last = chunk.last
                        yield chunk.data
                        continue
                    final = None if idle is None else await idle(last)
                    if final is not None:
                        yield final
                        return
                elif held[0]:
                    last = held[1]
                    yield held[0]
                    if hub.version == version:  # nothing new since we looked: no need to look again
                        await hub.changed(version)
                    continue
                elif hub.final is not None:
                    yield hub.final
                    return
                if hub.closed or _closing():
                    return
                if hub.ticks != ticks:  # a tick of silence: nothing else to write
                    ticks = hub.ticks
                    yield PING
                await hub.changed(version)


def run_events(
    context: ServerContext, run_id: str, after: int, *, inline: bool = True
) -> AsyncGenerator[bytes, None]:
    """A run's events with seq > `after`, live, ending with an `end` event once the run is final.

    The `end` event carries no id, so a client reconnecting after it resumes from the last
    trace event and gets the `end` event again, not a gap.
    """
    store = context.store
    flight = single_flight(context)

    def read(position: int) -> Awaitable[Chunk]:
        return _page(context, inline, position, store.events, run_id=run_id, after_seq=position, limit=PAGE)

    def wait(position: int, timeout: float) -> Awaitable[bool]:
        return store.wait_for_events_async(run_id=run_id, after=position, timeout=timeout)

    async def idle(position: int) -> bytes | None:
        # Only a caught-up stream asks for the status (one read per event saved for the busy
        # ones); a run that finished right after its last event closes within `sse_poll`.
        run = await flight.run(("run", run_id, position), lambda: asyncio.to_thread(store.get_run, run_id))
        # Final only when nothing newer than what we sent is stored: the last events are
        # written before the final status, and must not be cut off by the end event.
        if run.status not in ACTIVE_STATUSES and run.last_seq <= position:
            end = {"run_id": run_id, "status": run.status.value, "last_seq": run.last_seq}
            return ServerSentEvent(data=json.dumps(end), event=END_EVENT).encode()
        return None

    return _follow(context, ("run", run_id, str(inline)), after, read, wait, idle)


def all_events(context: ServerContext, after: int, *, inline: bool = True) -> AsyncGenerator[bytes, None]:
    """Every run's events with global id > `after`, live, until the client goes away."""
    store = context.store

    def read(position: int) -> Awaitable[Chunk]:
        return _page(context, inline, position, store.all_events, after_id=position, limit=PAGE)

    def wait(position: int, timeout: float) -> Awaitable[bool]:
        return store.wait_for_events_async(after=position, timeout=timeout)

    return _follow(context, ("all", str(inline)), after, read, wait)
