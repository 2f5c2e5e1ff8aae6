"""The PostgreSQL backend (psycopg 3): a connection pool, advisory locks and LISTEN/NOTIFY across replicas.

Trace appends hold one transaction-scoped advisory lock, so ids are handed out in commit
order: a reader paging by id never skips an event that commits late.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import DictRow, dict_row
from psycopg.types.json import Json
from psycopg_pool import ConnectionPool

from server.runstore.backend import Row
from server.runstore.signal import ChangeSignal

CHANNEL = "paramedic_run_store"


def _sql(sql: str) -> str:
    # The store writes `?` placeholders and never a literal `%` or `?`.
    return sql.replace("?", "%s")


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"paramedic:{key}".encode()).digest()[:8], "big", signed=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, allow_nan=False)


class _PgTx:
    def __init__(self, cursor: psycopg.Cursor[Row]) -> None:
        self._cursor = cursor

    def one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._cursor.execute(_sql(sql), tuple(params)).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._cursor.execute(_sql(sql), tuple(params)).fetchall()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._cursor.execute(_sql(sql), tuple(params)).rowcount


class _Listener:
    """A thread that LISTENs on its own connection and publishes every notification."""

    def __init__(self, url: str, signal: ChangeSignal) -> None:
        self._url = url
        self._signal = signal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="runstore-listen", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=10) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    # Anything committed while we were not listening: let waiters re-read.
                    self._signal.publish()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self._signal.publish()
            except psycopg.Error:
                # The server went away; waiters still poll, and we reconnect shortly.
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class PostgresBackend:
    """A run store in a PostgreSQL database, shared by every replica."""

    kind = "postgres"
    for_update = " FOR UPDATE"

    def __init__(self, url: str, *, max_connections: int = 10, poll_interval: float = 5.0) -> None:
        self.poll_interval = poll_interval
        self._url = url
        # Fail fast, with the driver's message, when the database cannot be reached at all.
        psycopg.connect(url, connect_timeout=10).close()
        # connection_class tells the type checker the rows are dicts (psycopg_pool's documented way).
        self._pool = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            min_size=1,
            max_size=max_connections,
            kwargs={"row_factory": dict_row},
            open=True,
        )
        self._listener: _Listener | None = None
        self._listener_lock = threading.Lock()

    @contextmanager
    def _transaction(self, read_only: bool) -> Iterator[_PgTx]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            if read_only:
                cursor.execute("SET TRANSACTION READ ONLY")
            yield _PgTx(cursor)

    def write(self) -> Any:
        return self._transaction(read_only=False)

    def read(self) -> Any:
        return self._transaction(read_only=True)

    def lock(self, tx: Any, key: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(?)", (_lock_id(key),))

    def announce(self, tx: Any, what: str) -> None:
        tx.execute("SELECT pg_notify(?, ?)", (CHANNEL, what))

    def listen(self, signal: ChangeSignal) -> None:
        with self._listener_lock:
            if self._listener is None:
                self._listener = _Listener(self._url, signal)

    def violation(self, exc: BaseException) -> str | None:
        if isinstance(exc, pg_errors.UniqueViolation):
            return "unique"
        if isinstance(exc, pg_errors.ForeignKeyViolation):
            return "foreign_key"
        return None

    def json_param(self, value: Any) -> Any:
        if value is None:
            return None
        _dumps(value)  # raise ValueError here, not deep inside the driver
        return Json(value, dumps=_dumps)

    def json_value(self, raw: Any) -> Any:
        return raw  # psycopg parses json columns

    def ts_param(self, value: datetime) -> Any:
        return value.astimezone(UTC)

    def ts_value(self, raw: Any) -> datetime:
        return raw.astimezone(UTC)

    def close(self) -> None:
        with self._listener_lock:
            if self._listener is not None:
                self._listener.stop()
                self._listener = None
        self._pool.close()
