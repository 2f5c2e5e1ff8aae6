"""The SSE generators on their own: store page boundaries, and the last events racing the final status."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from agent.trace import TraceEvent, TraceEventType
from server import sse
from server.context import ServerContext
from server.runstore import RunStatus
from tests.server.api.conftest import Api


@dataclass
class Message:
    id: str | None
    event: str | None
    data: str


def parse(wire: bytes) -> list[Message]:
    """SSE wire bytes as the messages a client sees (what EventSource parses)."""
    messages = []
    for block in wire.decode().replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            if name:
                fields.setdefault(name, []).append(value.removeprefix(" "))
        if "data" in fields:
            ids, events = fields.get("id"), fields.get("event")
            messages.append(
                Message(ids[-1] if ids else None, events[-1] if events else None, "\n".join(fields["data"]))
            )
    return messages


async def _collect(context: ServerContext, run_id: str, after: int = 0) -> list[Message]:
    async def run() -> list[Message]:
        chunks = [chunk async for chunk in sse.run_events(context, run_id, after)]
        return parse(b"".join(chunks))

    return await asyncio.wait_for(run(), 20)


def test_subscribers_at_one_position_write_the_same_bytes(api: Api) -> None:
    api.new_run("r1")
    api.emit("r1", 3)
    api.store.update_run("r1", status=RunStatus.HEALED)

    async def firsts() -> list[bytes]:
        streams = [sse.run_events(api.context, "r1", 0) for _ in range(3)]
        chunks = await asyncio.gather(*(anext(stream) for stream in streams))
        for stream in streams:
            await stream.aclose()
        return list(chunks)

    chunks = asyncio.run(firsts())
    assert chunks[0] is chunks[1] is chunks[2], "encoded once, shared"
    assert [m.id for m in parse(chunks[0])] == ["1", "2", "3"], "one write for every event read"


def test_replay_crosses_store_pages_without_gaps(api: Api) -> None:
    api.new_run("r1")
    api.emit("r1", 2 * sse.PAGE + 1)
    api.store.update_run("r1", status=RunStatus.HEALED)
    got = asyncio.run(_collect(api.context, "r1", after=7))
    assert [m.id for m in got[:-1]] == [str(seq) for seq in range(8, 2 * sse.PAGE + 2)]
    assert got[-1].event == "end" and json.loads(got[-1].data)["last_seq"] == 2 * sse.PAGE + 1


class _LateWriter:
    """A store whose first read races a writer: after it, one more event lands and the run finishes."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def events(self, run_id: str, **kwargs: Any) -> list[TraceEvent]:
        found = self._store.events(run_id, **kwargs)
        if not self._raced:
            self._raced = True
            self._store.append_event(run_id, TraceEvent(run_id=run_id, type=TraceEventType.VERIFICATION))
            self._store.update_run(run_id, status=RunStatus.HEALED)
        return found


def test_the_end_event_never_cuts_off_events_stored_before_the_final_status(api: Api) -> None:
    api.new_run("r1")
    api.emit("r1", 2)
    context = ServerContext(
        store=_LateWriter(api.store), settings=api.context.settings, extras=api.context.extras
    )
    got = asyncio.run(_collect(context, "r1"))
    assert [(m.id, m.event) for m in got] == [
        ("1", "note"),
        ("2", "note"),
        ("3", "verification"),
        (None, "end"),
    ]


def test_the_header_wins_over_after_and_garbage_is_refused() -> None:
    import pytest
    from fastapi import HTTPException

    assert sse.resume_point(None, None) == 0
    assert sse.resume_point(None, 4) == 4
    assert sse.resume_point(" 9 ", 4) == 9
    assert sse.resume_point("", 4) == 4, "an empty header is no resume point"
    for bad in ("x", "-1", "1.5", str(sse.MAX_EVENT_ID + 1)):
        with pytest.raises(HTTPException) as refused:
            sse.resume_point(bad, None)
        assert refused.value.status_code == 400


def test_identical_concurrent_calls_share_one_and_a_leaving_waiter_cancels_nobody_else() -> None:
    async def scenario() -> None:
        flight = sse.SingleFlight()
        calls = []
        release = asyncio.Event()

        async def slow() -> str:
            calls.append(1)
            await release.wait()
            return "result"

        waiters = [asyncio.create_task(flight.run("k", slow)) for _ in range(5)]
        await asyncio.sleep(0.01)
        waiters[0].cancel()  # a subscriber disconnects mid-read
        await asyncio.sleep(0.01)
        release.set()
        results = await asyncio.gather(*waiters[1:])
        assert results == ["result"] * 4 and calls == [1], "one call served every waiter"
        assert waiters[0].cancelled() and len(flight) == 0, "nothing stays in flight"

        async def broken() -> str:
            raise LookupError("gone")

        for outcome in await asyncio.gather(
            flight.run("b", broken), flight.run("b", broken), return_exceptions=True
        ):
            assert isinstance(outcome, LookupError)
        assert await flight.run("k", slow) == "result" and calls == [1, 1], "a later call runs anew"

    asyncio.run(scenario())


class _CountingStore:
    def __init__(self, store: Any) -> None:
        self._store = store
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def events(self, run_id: str, **kwargs: Any) -> list[TraceEvent]:
        self.reads += 1
        return self._store.events(run_id, **kwargs)


def test_caught_up_subscribers_share_their_store_reads(api: Api) -> None:
    api.new_run("r1")
    counting = _CountingStore(api.store)
    context = ServerContext(store=counting, settings=api.context.settings, extras=dict(api.context.extras))

    async def scenario() -> list[list[str | None]]:
        tasks = [asyncio.create_task(_collect(context, "r1")) for _ in range(20)]
        await asyncio.sleep(0.3)  # every subscriber caught up and waiting
        for _ in range(10):
            await asyncio.to_thread(api.emit, "r1", 1)
            await asyncio.sleep(0.05)
        await asyncio.to_thread(api.store.update_run, "r1", status=RunStatus.HEALED)
        return [[m.id for m in got] for got in await asyncio.gather(*tasks)]

    streams = asyncio.run(scenario())
    assert all(ids == [*map(str, range(1, 11)), None] for ids in streams)
    # Unshared, 20 subscribers would read at least 20 x 11 times; shared, about once per event.
    assert counting.reads < 20 * 3, counting.reads


def test_streamed_events_carry_blobs_inlined_unless_asked_not_to(api: Api) -> None:
    api.new_run("r1")
    big = "x" * 10_000
    api.store.append_event("r1", TraceEvent(run_id="r1", type=TraceEventType.TOOL_CALL, payload={"out": big}))
    api.store.update_run("r1", status=RunStatus.HEALED)

    async def first(inline: bool) -> dict:
        stream = sse.run_events(api.context, "r1", 0, inline=inline)
        message = parse(await anext(stream))[0]
        await stream.aclose()
        assert message.event == "tool_call"
        return json.loads(message.data)

    assert asyncio.run(first(True))["payload"]["out"] == big
    referenced = asyncio.run(first(False))
    assert referenced["payload"]["out"] == {"$blob": referenced["blobs"][0]["sha256"]}
