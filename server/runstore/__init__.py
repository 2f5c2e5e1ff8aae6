"""The run store: incidents, runs, trace events, blobs and the audit log, in SQLite or PostgreSQL.

`open_run_store(url)` picks the database from the storage URL (`Settings.resolved_storage_url()`)
and creates or migrates the schema.
"""

from __future__ import annotations

from typing import TypedDict

from server.runstore.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    NotWaitingError,
    RunStoreError,
    SchemaVersionError,
    UnknownBlobError,
    UnknownIncidentError,
    UnknownRunError,
)
from server.runstore.models import (
    ACTIVE_STATUSES,
    AuditEntry,
    AuditRecord,
    IncidentPage,
    IncidentRecord,
    IncidentStatus,
    NewRun,
    RunPage,
    RunRecord,
    RunStatus,
)
from server.runstore.store import RunStore

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


class _Tuning(TypedDict, total=False):
    """Options every backend takes; a key left out keeps that backend's default."""

    poll_interval: float


__all__ = [
    "ACTIVE_STATUSES",
    "AuditEntry",
    "AuditRecord",
    "ConflictError",
    "IncidentPage",
    "IncidentRecord",
    "IncidentStatus",
    "InvalidInputError",
    "NewRun",
    "NotFoundError",
    "NotWaitingError",
    "RunPage",
    "RunRecord",
    "RunStatus",
    "RunStore",
    "RunStoreError",
    "SchemaVersionError",
    "UnknownBlobError",
    "UnknownIncidentError",
    "UnknownRunError",
    "open_run_store",
]


def open_run_store(url: str, *, poll_interval: float | None = None) -> RunStore:
    """The run store at `url`: `sqlite:///path` (or `sqlite:///:memory:`) or `postgresql://…`.

    `poll_interval` is how often waiters re-read the store without a wake-up (the only way
    to see another process's SQLite writes); defaults: 0.25 s on SQLite, 5 s on PostgreSQL.
    """
    extra: _Tuning = {} if poll_interval is None else {"poll_interval": poll_interval}
    if url.startswith(SQLITE_PREFIX) and url != SQLITE_PREFIX:
        from server.runstore.sqlite import SqliteBackend

        return RunStore(SqliteBackend(url[len(SQLITE_PREFIX) :], **extra))
    if url.startswith(POSTGRES_PREFIXES):
        from server.runstore.postgres import PostgresBackend

        return RunStore(PostgresBackend(url, **extra))
    raise InvalidInputError(
        f"unsupported storage URL {url!r}: expected sqlite:///path/to/file.db or postgresql://user@host/db"
    )
