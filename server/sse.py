"""Server-sent event streams over the run store: replay what is stored, then follow live appends.

A stream never keeps events in memory beyond one page: it reads the store from the last id it
sent, and sleeps on `wait_for_events_async` when caught up, so a reconnect with `Last-Event-ID`
resumes exactly after the last event the client saw (no gaps, no duplicates) and any number
of subscribers cost one store read per new event each, not a per-subscriber queue.

Tunables live in `context.extras`: `sse_ping` (seconds between keep-alive comments, default 15)
and `sse_poll` (how often a caught-up run stream re-reads the run's status, default 1 s:
a status change without a new event wakes nobody, and the stream must close on a final one).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from functools import partial
from typing import Any, TypeVar

from fastapi import HTTPException, status
from sse_starlette import ServerSentEvent

from agent.trace import TraceEvent
from server.context import ServerContext
from server.prometheus_exporter import metrics_of
from server.runstore import ACTIVE_STATUSES

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


def _message(event: TraceEvent, event_id: int) -> ServerSentEvent:
    return ServerSentEvent(data=event.model_dump_json(), event=event.type.value, id=str(event_id))


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


async def _page(
    context: ServerContext, inline: bool, call: Any, **kwargs: Any
) -> list[tuple[int, ServerSentEvent]]:
    """A page of events, each with its stream position and message, built once for every subscriber."""
    per_run = "run_id" in kwargs

    def read() -> list[tuple[int, ServerSentEvent]]:
        batch = call(**kwargs)
        if inline:
            batch = [context.store.inline_event(e) for e in batch]
        out = []
        for event in batch:
            position = (event.seq if per_run else event.id) or 0
            out.append((position, _message(event, position)))
        return out

    key = ("page", call.__name__, inline, *sorted(kwargs.items()))
    return await single_flight(context).run(key, lambda: asyncio.to_thread(read))


async def run_events(
    context: ServerContext, run_id: str, after: int, *, inline: bool = True
) -> AsyncIterator[ServerSentEvent]:
    """A run's events with seq > `after`, live, ending with an `end` event once the run is final.

    The `end` event carries no id, so a client reconnecting after it resumes from the last
    trace event and gets the `end` event again, not a gap.
    """
    store = context.store
    flight = single_flight(context)
    poll = _poll_interval(context)
    with metrics_of(context.extras).subscriber("run"):
        last = after
        while True:
            batch = await _page(context, inline, store.events, run_id=run_id, after_seq=last, limit=PAGE)
            for position, message in batch:
                last = position
                yield message
            if len(batch) == PAGE:
                continue  # replaying a long trace: read on
            if not batch:
                # Only a quiet stream asks for the status (one read per event saved for the busy
                # ones); a run that finished right after its last event closes within `sse_poll`.
                run = await flight.run(
                    ("run", run_id, last), lambda: asyncio.to_thread(store.get_run, run_id)
                )
                # Final only when nothing newer than what we sent is stored: the last events are
                # written before the final status, and must not be cut off by the end event.
                if run.status not in ACTIVE_STATUSES and run.last_seq <= last:
                    end = {"run_id": run_id, "status": run.status.value, "last_seq": run.last_seq}
                    yield ServerSentEvent(data=json.dumps(end), event=END_EVENT)
                    return
            await flight.run(
                ("wait", run_id, last),
                partial(store.wait_for_events_async, run_id=run_id, after=last, timeout=poll),
            )


async def all_events(
    context: ServerContext, after: int, *, inline: bool = True
) -> AsyncIterator[ServerSentEvent]:
    """Every run's events with global id > `after`, live, until the client goes away."""
    store = context.store
    flight = single_flight(context)
    timeout = max(ping_interval(context), 1.0)
    with metrics_of(context.extras).subscriber("all"):
        last = after
        while True:
            batch = await _page(context, inline, store.all_events, after_id=last, limit=PAGE)
            for position, message in batch:
                last = position
                yield message
            if len(batch) < PAGE:
                await flight.run(
                    ("wait-all", last),
                    partial(store.wait_for_events_async, after=last, timeout=timeout),
                )
