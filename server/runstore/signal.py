"""In-process wake-ups for whoever waits on new trace events: threads and asyncio tasks alike.

The signal carries no data, only "something changed": a waiter re-reads the store, so a
spurious wake-up costs one query and a missed one is impossible (it compares versions).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class ChangeSignal:
    """A version counter that `publish` bumps; `wait`/`wait_async` block until it moves."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._version = 0
        self._async_waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def version(self) -> int:
        """Read before checking the store; pass it to `wait` to sleep until anything newer."""
        with self._cond:
            return self._version

    def publish(self) -> None:
        """Wake every waiter, in any thread or event loop."""
        with self._cond:
            self._version += 1
            self._cond.notify_all()
            waiters = list(self._async_waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # that loop is closed; its waiter is gone
                loop.call_soon_threadsafe(event.set)

    def wait(self, seen: int, timeout: float) -> bool:
        """Block until the version differs from `seen` (True) or `timeout` seconds pass (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._version != seen, timeout=max(timeout, 0.0))

    async def wait_async(self, seen: int, timeout: float) -> bool:
        """`wait` for asyncio: the event loop keeps running while this task sleeps."""
        key = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            if self._version != seen:
                return True
            self._async_waiters.add(key)
        try:
            await asyncio.wait_for(key[1].wait(), timeout=max(timeout, 0.0))
            return True
        except TimeoutError:
            return False
        finally:
            with self._cond:
                self._async_waiters.discard(key)
