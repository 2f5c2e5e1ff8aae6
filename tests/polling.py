"""Polling for tests that wait on a live server, a sandbox or a thread: one loop, not a copy per file."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(predicate: Callable[[], T], timeout: float, interval: float = 0.05) -> T:
    """Call `predicate` until it answers truthy or `timeout` seconds pass; its last answer.

    The answer after the deadline counts too, so a slow machine does not fail a test that was one
    poll away from passing.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
