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
from collections.abc import AsyncIterator
from typing import Any

from fastapi import HTTPException, status
from sse_starlette import ServerSentEvent

from agent.trace import TraceEvent
from server.context import ServerContext
from server.metrics import metrics_of
from server.runstore import ACTIVE_STATUSES

PAGE = 500
DEFAULT_PING = 15.0
DEFAULT_POLL = 1.0
END_EVENT = "end"
MAX_EVENT_ID = 2**63 - 1


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


async def _page(context: ServerContext, inline: bool, call: Any, **kwargs: Any) -> list[TraceEvent]:
    def read() -> list[TraceEvent]:
        batch = call(**kwargs)
        return [context.store.inline_event(e) for e in batch] if inline else batch

    return await asyncio.to_thread(read)


async def run_events(
    context: ServerContext, run_id: str, after: int, *, inline: bool = True
) -> AsyncIterator[ServerSentEvent]:
    """A run's events with seq > `after`, live, ending with an `end` event once the run is final.

    The `end` event carries no id, so a client reconnecting after it resumes from the last
    trace event and gets the `end` event again, not a gap.
    """
    store = context.store
    with metrics_of(context.extras).subscriber("run"):
        last = after
        while True:
            batch = await _page(context, inline, store.events, run_id=run_id, after_seq=last, limit=PAGE)
            for event in batch:
                last = event.seq or last
                yield _message(event, last)
            if len(batch) == PAGE:
                continue
            run = await asyncio.to_thread(store.get_run, run_id)
            # Final only when nothing newer than what we sent is stored: the last events are
            # written before the final status, and must not be cut off by the end event.
            if run.status not in ACTIVE_STATUSES and run.last_seq <= last:
                end = {"run_id": run_id, "status": run.status.value, "last_seq": run.last_seq}
                yield ServerSentEvent(data=json.dumps(end), event=END_EVENT)
                return
            await store.wait_for_events_async(run_id=run_id, after=last, timeout=_poll_interval(context))


async def all_events(
    context: ServerContext, after: int, *, inline: bool = True
) -> AsyncIterator[ServerSentEvent]:
    """Every run's events with global id > `after`, live, until the client goes away."""
    store = context.store
    with metrics_of(context.extras).subscriber("all"):
        last = after
        while True:
            batch = await _page(context, inline, store.all_events, after_id=last, limit=PAGE)
            for event in batch:
                last = event.id or last
                yield _message(event, last)
            if len(batch) < PAGE:
                await store.wait_for_events_async(after=last, timeout=max(ping_interval(context), 1.0))
