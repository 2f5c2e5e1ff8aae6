"""A clock a test moves by hand, for code that takes `clock=` (a float of seconds or an aware datetime)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Generic, TypeVar

T = TypeVar("T", float, datetime)


class ManualClock(Generic[T]):
    """Calling it answers `now`; a test sets `now` or calls `advance` to move time on."""

    def __init__(self, now: T) -> None:
        self.now = now

    def __call__(self) -> T:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move `now` on by `seconds`."""
        if isinstance(self.now, datetime):
            self.now = self.now + timedelta(seconds=seconds)
        else:
            self.now = self.now + seconds
