"""The SQLite backend: one WAL-mode connection shared by the process's threads under a lock.

Writers take SQLite's write lock up front (`BEGIN IMMEDIATE`), so appends are serialised
across threads and processes alike. Another process's writes cannot wake our waiters, so
they also poll, briefly (`poll_interval`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from server.runstore.backend import Row
from server.runstore.signal import ChangeSignal

_BUSY_TIMEOUT_MS = 30_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def _enter_wal(conn: sqlite3.Connection) -> None:
    """Switch the file to WAL, retrying while another connection holds it.

    Switching needs an exclusive lock and SQLite may answer "database is locked" at once
    instead of calling the busy handler, e.g. when several replicas open a new file together.
    """
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = self._conn.execute(sql, tuple(params))
        row = cursor.fetchone()
        cursor.fetchall()  # finish the statement (RETURNING rows are only final once drained)
        return row

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._conn.execute(sql, tuple(params)).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._conn.execute(sql, tuple(params)).rowcount


class SqliteBackend:
    """A run store in one SQLite file (or `:memory:`)."""

    kind = "sqlite"
    for_update = ""

    def __init__(self, path: str, *, poll_interval: float = 0.25) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.poll_interval = poll_interval
        self._lock = threading.RLock()
        # Autocommit mode (isolation_level=None): transactions are begun explicitly below.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._conn.row_factory = _dict_row
        self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA foreign_keys = ON")
        if path != ":memory:":
            _enter_wal(self._conn)
            # Survives process crashes; a power cut may lose the last commits, never corrupt the file.
            self._conn.execute("PRAGMA synchronous = NORMAL")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[_SqliteTx]:
        with self._lock:
            self._conn.execute(begin)
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def write(self) -> Any:
        return self._transaction("BEGIN IMMEDIATE")

    def read(self) -> Any:
        return self._transaction("BEGIN")

    def lock(self, tx: Any, key: str) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` already holds the database's single write lock."""

    def announce(self, tx: Any, what: str) -> None:
        """Nothing to do: other processes poll."""

    def listen(self, signal: ChangeSignal) -> None:
        """Nothing to do: other processes poll."""

    def violation(self, exc: BaseException) -> str | None:
        if not isinstance(exc, sqlite3.IntegrityError):
            return None
        text = str(exc)
        if "UNIQUE" in text:
            return "unique"
        if "FOREIGN KEY" in text:
            return "foreign_key"
        return None

    def json_param(self, value: Any) -> Any:
        return None if value is None else json.dumps(value, allow_nan=False)

    def json_value(self, raw: Any) -> Any:
        return None if raw is None else json.loads(raw)

    def ts_param(self, value: datetime) -> Any:
        # Fixed width and always UTC, so text order is time order.
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    def ts_value(self, raw: Any) -> datetime:
        return datetime.fromisoformat(raw).astimezone(UTC)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
