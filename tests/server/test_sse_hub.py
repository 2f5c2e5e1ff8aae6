"""The SSE hub on its own: what it serves from its chunks, and when a subscriber must read the store."""

from __future__ import annotations

import asyncio

from server.sse_hub import Chunk, Hub


def _chunk(first: int, last: int) -> Chunk:
    return Chunk.of(first, [(p, f"id: {p}\n\n".encode()) for p in range(first + 1, last + 1)])


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
        await hub.changed(0, 1)
        await hub.changed(3, 1)
        assert hub.last == 5
        whole, last = hub.after(3) or (b"", 0)
        assert whole is hub._chunks[1].data and last == 5, "the chunk itself, not a copy"
        assert hub.after(1) == (b"id: 2\n\nid: 3\n\nid: 4\n\nid: 5\n\n", 5), "mid-chunk: only what is newer"
        assert hub.after(5) == (b"", 5)
        assert hub.after(6) is None, "ahead of the hub: read the store"
        hub.stop()

        small = Hub(10, read, wait, poll=0.05, keep=1)
        assert small.after(9) is None, "behind the hub: read the store"

    asyncio.run(scenario())
