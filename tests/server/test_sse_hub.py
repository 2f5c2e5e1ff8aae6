"""The SSE hub on its own: what it serves from its chunks, and when a subscriber must read the store."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from server.sse_hub import Chunk, Hub


def _chunk(first: int, last: int) -> Chunk:
    return Chunk.of(first, [(p, f"id: {p}\n\n".encode()) for p in range(first + 1, last + 1)])


async def _until(hub: Hub, done: Callable[[], bool]) -> None:
    """Sleep on the hub's wake-ups (as a subscriber does) until `done()`."""
    while True:
        version = hub.version
        if done():
            return
        await hub.changed(version)


def test_a_hub_serves_shared_bytes_slices_mid_chunk_and_sends_the_rest_to_the_store() -> None:
    async def scenario() -> None:
        chunks = [_chunk(0, 3), _chunk(3, 5)]
        reads: list[int] = []

        async def read(after: int) -> Chunk:
            reads.append(after)
            return chunks.pop(0) if chunks else Chunk.of(after, [])

        async def wait(after: int, timeout: float) -> bool:
            await asyncio.sleep(0.01)
            return False

        hub = Hub(0, read, wait, poll=0.05)
        hub.start()
        await asyncio.wait_for(_until(hub, lambda: hub.last == 5), 2)
        whole, last = hub.after(3) or (b"", 0)
        assert whole is hub._chunks[1].data and last == 5, "the chunk itself, not a copy"
        assert hub.after(1) == (b"id: 2\n\nid: 3\n\nid: 4\n\nid: 5\n\n", 5), "mid-chunk: only what is newer"
        assert hub.after(5) == (b"", 5)
        assert hub.after(6) is None, "ahead of the hub: read the store"
        hub.stop()

        small = Hub(10, read, wait, poll=0.05, keep=1)
        assert small.after(9) is None, "behind the hub: read the store"

    asyncio.run(scenario())


def test_the_hub_is_its_subscribers_clock_it_finds_the_end_ticks_in_silence_and_closes() -> None:
    async def scenario() -> None:
        chunks = [_chunk(0, 2)]
        idle_at: list[int] = []
        ended = asyncio.Event()

        async def read(after: int) -> Chunk:
            return chunks.pop(0) if chunks else Chunk.of(after, [])

        async def wait(after: int, timeout: float) -> bool:
            await asyncio.sleep(timeout)
            return False

        async def idle(position: int) -> bytes | None:
            idle_at.append(position)
            return b"event: end\n\n" if ended.is_set() else None

        hub = Hub(0, read, wait, poll=0.02, idle=idle, ping=0.1)
        hub.start()
        await asyncio.wait_for(_until(hub, lambda: hub.ticks >= 2), 2)
        assert hub.last == 2 and hub.final is None
        assert set(idle_at) == {2}, "the hub asks `idle` at its own position, for everyone"
        version = hub.version
        ended.set()
        await asyncio.wait_for(hub.changed(version), 2)
        assert hub.final == b"event: end\n\n" and not hub.closed
        hub.stop()

        closing = False
        quiet = Hub(0, read, wait, poll=0.02, closing=lambda: closing)
        quiet.start()
        await asyncio.sleep(0.1)
        assert quiet.ticks == 0, "no ping: no ticks"
        version, closing = quiet.version, True
        await asyncio.wait_for(quiet.changed(version), 2)
        assert quiet.closed
        quiet.stop()

    asyncio.run(scenario())
