"""Checkpointers for the healing graph, chosen by the storage URL: SQLite by default, PostgreSQL for replicas.

Each run is one LangGraph thread (`thread_id` = run id, see `run_config`). Drive the graph with
`durability="sync"` where a crash must not lose the last finished node: with LangGraph's
default (`"async"`) a checkpoint is still being written while the next node runs.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.base import SerializerProtocol

if TYPE_CHECKING:
    from psycopg import Connection

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")
# Several replicas may open the checkpointer at once; setup() migrations must not interleave.
_SETUP_LOCK_KEY = 0x70617261_6D656463 & 0x7FFFFFFFFFFFFFFF  # "paramedc"
_BUSY_TIMEOUT_MS = 30_000
_SETUP_POLL_SECONDS = 0.2


class StorageUrlError(ValueError):
    """A storage URL that names no supported database."""


def sqlite_path(storage_url: str) -> str:
    """The file of a `sqlite:///path` URL (`sqlite:////abs/path` for absolute paths, or `:memory:`)."""
    if not storage_url.startswith(SQLITE_PREFIX) or storage_url == SQLITE_PREFIX:
        raise StorageUrlError(f"not a SQLite URL: {storage_url!r} (expected sqlite:///path/to/file.db)")
    return storage_url[len(SQLITE_PREFIX) :]


def _kind(storage_url: str) -> str:
    if storage_url.startswith(SQLITE_PREFIX):
        return "sqlite"
    if storage_url.startswith(POSTGRES_PREFIXES):
        return "postgres"
    raise StorageUrlError(
        f"unsupported storage URL {storage_url!r}: expected sqlite:///path or postgresql://user@host/db"
    )


def _sqlite_file(storage_url: str) -> str:
    path = sqlite_path(storage_url)
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return path


def run_config(run_id: str, **configurable: Any) -> RunnableConfig:
    """The graph config of one run: its thread is the run id."""
    if not run_id:
        raise ValueError("run_id must not be empty")
    return {"configurable": {"thread_id": run_id, **configurable}}


def _pg_kwargs() -> dict[str, Any]:
    from psycopg.rows import dict_row

    # What the PostgreSQL savers expect of their connections (see PostgresSaver.from_conn_string).
    return {"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}


def _take_setup_lock(lock: Connection[Any]) -> None:
    """Take the setup lock by polling, never by waiting inside PostgreSQL.

    The migrations build indexes `CONCURRENTLY`, which waits for every older transaction of the
    database, including another replica's `pg_advisory_lock` call blocked on this lock: the two
    would wait on each other through the applications, where PostgreSQL's deadlock detector
    cannot see (two replicas starting together on a fresh database hung for good). A short
    `pg_try_advisory_lock` per attempt holds no snapshot for the index build to wait on.
    """
    while True:
        row = lock.execute("SELECT pg_try_advisory_lock(%s)", (_SETUP_LOCK_KEY,)).fetchone()
        if row is not None and row[0]:
            return
        time.sleep(_SETUP_POLL_SECONDS)


@contextmanager
def open_checkpointer(
    storage_url: str, *, serde: SerializerProtocol | None = None, max_connections: int = 10
) -> Iterator[BaseCheckpointSaver[str]]:
    """A ready (tables created) synchronous checkpointer for `storage_url`, closed on exit."""
    if _kind(storage_url) == "sqlite":
        from langgraph.checkpoint.sqlite import SqliteSaver

        conn = sqlite3.connect(_sqlite_file(storage_url), check_same_thread=False, timeout=30)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            saver = SqliteSaver(conn, serde=serde)
            saver.setup()
            yield saver
        finally:
            conn.close()
        return

    import psycopg
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import DictRow
    from psycopg_pool import ConnectionPool

    # Typed as the savers' pool: _pg_kwargs() makes every connection return dict rows.
    with ConnectionPool[Connection[DictRow]](
        storage_url, min_size=1, max_size=max_connections, kwargs=_pg_kwargs(), open=False
    ) as pool:
        postgres = PostgresSaver(pool, serde=serde)
        with psycopg.connect(storage_url, autocommit=True) as lock:
            _take_setup_lock(lock)
            postgres.setup()
            lock.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
        yield postgres
