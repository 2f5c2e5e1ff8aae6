"""Starting a sandbox cluster for a test: start it, wait until it is healthy, always stop it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar


class Startable(Protocol):
    def start(self) -> Any: ...
    def wait_healthy(self, timeout: float) -> Any: ...
    def stop(self) -> Any: ...


S = TypeVar("S", bound=Startable)


@contextmanager
def running(box: S, timeout: float = 60) -> Iterator[S]:
    """`box` started and healthy within `timeout` seconds; stopped on exit, healthy or not."""
    box.start()
    try:
        box.wait_healthy(timeout=timeout)
        yield box
    finally:
        box.stop()
