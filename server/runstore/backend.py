"""What the SQL run store needs from a database: transactions, value conversions, locks, notifications.

The store writes its SQL once, with `?` placeholders; each backend adapts it to its driver.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from server.runstore.signal import ChangeSignal

Row = dict[str, Any]


class Tx(Protocol):
    """One open transaction."""

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """The first row of the statement's result, or None."""
        ...

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Every row of the statement's result."""
        ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement; the number of rows it changed."""
        ...


class Backend(Protocol):
    """A database the run store can live in."""

    kind: str  # "sqlite" or "postgres"
    # How often a waiter re-reads the store even without a wake-up: the cross-process fallback.
    poll_interval: float
    # Appended to a SELECT to lock the rows it reads for the rest of the write transaction.
    for_update: str

    def write(self) -> AbstractContextManager[Tx]:
        """A read-write transaction, committed on success and rolled back on error."""
        ...

    def read(self) -> AbstractContextManager[Tx]:
        """A read-only transaction with a consistent view."""
        ...

    def lock(self, tx: Tx, key: str) -> None:
        """Serialise, until `tx` ends, every writer that locks the same key (across processes)."""
        ...

    def announce(self, tx: Tx, what: str) -> None:
        """Tell other processes, once `tx` commits, that the store changed."""
        ...

    def listen(self, signal: ChangeSignal) -> None:
        """Start (once) publishing other processes' announcements on `signal`."""
        ...

    def violation(self, exc: BaseException) -> str | None:
        """'unique' or 'foreign_key' when `exc` is that integrity violation, else None."""
        ...

    def json_param(self, value: Any) -> Any:
        """A JSON value as a statement parameter; raises ValueError when it is not JSON."""
        ...

    def json_value(self, raw: Any) -> Any:
        """A JSON column's value as Python data."""
        ...

    def ts_param(self, value: datetime) -> Any:
        """An aware datetime as a statement parameter."""
        ...

    def ts_value(self, raw: Any) -> datetime:
        """A timestamp column's value as an aware UTC datetime."""
        ...

    def close(self) -> None:
        """Release connections and stop listening."""
        ...
