"""One reader per SSE stream, however many subscribers: the hub reads new events, encodes them once
into a `Chunk` of wire bytes, keeps the last few chunks, and wakes its subscribers, who write the
very same bytes.

A subscriber whose position falls inside the kept chunks takes everything after it without a
store read (a subscriber that is one chunk behind gets that chunk's bytes object itself); one
behind them (a replay, a slow client) or ahead of the hub (the hub is still catching up) reads
the store itself until it is within reach. The hub runs while it has subscribers and stops with
the last one.

Waking is cheap and shared: subscribers sleep on one `asyncio.Event` per generation (no timer
of their own), and the hub is their only clock. It wakes them when it has new bytes, when the
stream has ended (`final`: its `idle` check, e.g. the run's final status, is made once for all
of them), when the server is shutting down (`closing`), and every `ping` seconds of silence
(`ticks`), for the keep-alive comment every stream must write to keep proxies from cutting it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

log = logging.getLogger(__name__)

KEEP_BYTES = 4 * 1024 * 1024  # the recent chunks kept for subscribers a little behind


@dataclass(frozen=True)
class Chunk:
    """Events after stream position `first` up to `last`, as SSE wire bytes (`data`), built once."""

    first: int
    last: int
    positions: tuple[int, ...]
    parts: tuple[bytes, ...]
    data: bytes

    @property
    def count(self) -> int:
        """How many events it holds."""
        return len(self.parts)

    @classmethod
    def of(cls, first: int, messages: list[tuple[int, bytes]]) -> Chunk:
        """A chunk of (position, message bytes) pairs read after `first`."""
        positions = tuple(p for p, _ in messages)
        parts = tuple(m for _, m in messages)
        return cls(first, positions[-1] if positions else first, positions, parts, b"".join(parts))

    def after(self, position: int) -> bytes:
        """The bytes of its events after `position` (all of them: the shared `data` itself)."""
        if position <= self.first:
            return self.data
        return b"".join(part for p, part in zip(self.positions, self.parts, strict=True) if p > position)


Read = Callable[[int], Awaitable[Chunk]]
Wait = Callable[[int, float], Awaitable[bool]]
Idle = Callable[[int], Awaitable[bytes | None]]


def _never() -> bool:
    return False


class Hub:
    """The shared reader of one stream; see the module docstring.

    `poll`: how long the hub waits for the store before it checks `idle` and `closing` again;
    `ping`: seconds of silence between two ticks (0: none).
    """

    def __init__(
        self, start: int, read: Read, wait: Wait, poll: float, keep: int = KEEP_BYTES, *,
        idle: Idle | None = None, ping: float = 0.0, closing: Callable[[], bool] = _never,
    ) -> None:  # fmt: skip
        self.base = start  # positions at or after this are served from `chunks`
        self.last = start
        self._read, self._wait, self._poll = read, wait, poll
        self._idle, self._ping, self._closing = idle, ping, closing
        self._keep = keep
        self._kept = 0
        self._chunks: deque[Chunk] = deque()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published = time.monotonic()
        self.subscribers = 0
        self.version = 0  # bumped by every wake-up: read it before looking, pass it to `changed`
        self.ticks = 0  # keep-alive ticks so far
        self.final: bytes | None = None  # the stream's last message, once `idle` found its end
        self.closed = False  # the server is shutting down: subscribers end their streams

    def after(self, position: int) -> tuple[bytes, int] | None:
        """What the hub holds after `position` and the position after it; None when out of its reach."""
        if position < self.base or position > self.last:
            return None
        taken: list[Chunk] = []
        for chunk in reversed(self._chunks):
            if chunk.last <= position:
                break
            taken.append(chunk)
        if not taken:
            return b"", position
        taken.reverse()
        if len(taken) == 1:
            return taken[0].after(position), taken[0].last
        return b"".join(c.after(position) for c in taken), taken[-1].last

    async def changed(self, seen: int) -> None:
        """Sleep until the hub's `version` moves past `seen` (new bytes, a tick, the end)."""
        if self.version == seen:
            await self._changed.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _publish(self) -> None:
        self.version += 1
        self._published = time.monotonic()
        event, self._changed = self._changed, asyncio.Event()
        event.set()  # wakes every subscriber waiting on this generation

    def _add(self, chunk: Chunk) -> None:
        self._chunks.append(chunk)
        self._kept += len(chunk.data)
        while self._kept > self._keep and len(self._chunks) > 1:
            self._kept -= len(self._chunks.popleft().data)
            self.base = self._chunks[0].first
        self.last = chunk.last
        self._publish()

    async def _pump(self) -> None:
        while True:
            try:
                chunk = await self._read(self.last)
                if chunk.count:
                    self._add(chunk)
                    continue
                if self._closing():
                    self.closed = True
                    self._publish()
                    return
                final = None if self._idle is None else await self._idle(self.last)
                if final is not None:
                    self.final = final
                    self._publish()
                    return
                if await self._wait(self.last, self._poll):
                    continue
            except Exception:  # the store is briefly unavailable: subscribers wait, we retry
                log.exception("SSE hub read failed; retrying")
                await asyncio.sleep(self._poll)
            if self._ping > 0 and time.monotonic() - self._published >= self._ping:
                self.ticks += 1
                self._publish()


class Hubs:
    """The hubs of one app, by stream key and event loop."""

    def __init__(self) -> None:
        self._hubs: dict[Hashable, Hub] = {}

    @contextlib.asynccontextmanager
    async def join(self, key: Hashable, make: Callable[[], Hub]) -> AsyncIterator[Hub]:
        """The stream's hub (started by its first subscriber, stopped after its last)."""
        key = (id(asyncio.get_running_loop()), key)
        hub = self._hubs.get(key)
        if hub is None:
            hub = self._hubs[key] = make()
            hub.start()
        hub.subscribers += 1
        try:
            yield hub
        finally:
            hub.subscribers -= 1
            if hub.subscribers == 0 and self._hubs.get(key) is hub:
                del self._hubs[key]
                hub.stop()

    def __len__(self) -> int:
        return len(self._hubs)
