"""The run store over SQL: incidents, runs, trace events, blobs and the audit log.

Every write is one transaction. Appending a trace event locks the run's row counter (and,
on PostgreSQL, a global advisory lock), so `seq` is gapless per run and `id` grows in commit
order, across threads, processes and replicas.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, to_jsonable_python

from agent.domain import Incident
from agent.trace import Blob, TraceEvent, check_json, externalize, inline
from server.runstore import rows
from server.runstore.backend import Backend, Tx
from server.runstore.errors import (
    ConflictError,
    InvalidInputError,
    RunStoreError,
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
    utc_now,
)
from server.runstore.schema import migrate
from server.runstore.signal import ChangeSignal

MAX_PAGE = 1000
_UNSET: Any = object()
_APPEND_LOCK = "trace-append"


def _statuses(status: RunStatus | str | Iterable[RunStatus | str] | None) -> list[str]:
    if status is None:
        return []
    values = [status] if isinstance(status, str) else list(status)
    try:
        return [RunStatus(value).value for value in values]
    except ValueError as exc:
        raise InvalidInputError(
            f"unknown run status in {values!r}; known: {[s.value for s in RunStatus]}"
        ) from exc


class SqlRunStore:
    """A `RunStore` in a SQL database (see `server.runstore.open_run_store`)."""

    def __init__(self, backend: Backend) -> None:
        self._db = backend
        self._signal = ChangeSignal()
        try:
            self.schema_version = migrate(backend)
        except BaseException:
            backend.close()
            raise

    @property
    def kind(self) -> str:
        """Which database: 'sqlite' or 'postgres'."""
        return self._db.kind

    def close(self) -> None:
        """Release the database connections."""
        self._db.close()

    def __enter__(self) -> SqlRunStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _write(self, what: str) -> Iterator[Tx]:
        """A write transaction whose JSON and integrity errors come out as clear store errors."""
        try:
            with self._db.write() as tx:
                yield tx
        except (ValueError, TypeError) as exc:
            if isinstance(exc, RunStoreError):
                raise
            raise InvalidInputError(f"{what}: {exc}") from exc
        except Exception as exc:
            kind = self._db.violation(exc)
            if kind is None:
                raise
            raise ConflictError(f"{what}: {kind.replace('_', ' ')} constraint violated") from exc

    # --- incidents ------------------------------------------------------------------------

    def record_incident(self, incident: Incident, *, seen_at: datetime | None = None) -> IncidentRecord:
        """Fold a sighting into the fingerprint's open incident, or open one with `incident.id`."""
        seen = seen_at or utc_now()
        with self._write(f"incident {incident.id!r}") as tx:
            self._db.lock(tx, f"fingerprint:{incident.fingerprint}")
            row = tx.one(
                f"SELECT {rows.INCIDENT_COLUMNS} FROM incidents WHERE fingerprint = ? AND status = 'open'"
                f"{self._db.for_update}",
                (incident.fingerprint,),
            )
            if row is not None:
                current = rows.incident_of(self._db, row)
                tx.execute(
                    "UPDATE incidents SET last_seen = ?, count = count + 1 WHERE id = ?",
                    (self._db.ts_param(max(current.last_seen, seen)), current.id),
                )
                incident_id = current.id
            else:
                target = incident.target
                tx.execute(
                    f"INSERT INTO incidents ({rows.INCIDENT_COLUMNS})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (incident.id, incident.fingerprint, target.namespace, target.kind, target.name,
                     incident.reason, incident.trigger.value, incident.summary,
                     self._db.json_param(incident.labels), self._db.ts_param(incident.started_at),
                     self._db.ts_param(max(incident.started_at, seen)), 1, IncidentStatus.OPEN.value),
                )  # fmt: skip
                incident_id = incident.id
            stored = tx.one(f"SELECT {rows.INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        assert stored is not None
        return rows.incident_of(self._db, stored)

    def get_incident(self, incident_id: str) -> IncidentRecord:
        """One incident; UnknownIncidentError when there is none."""
        with self._db.read() as tx:
            row = tx.one(f"SELECT {rows.INCIDENT_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        if row is None:
            raise UnknownIncidentError(incident_id)
        return rows.incident_of(self._db, row)

    def set_incident_status(self, incident_id: str, status: IncidentStatus | str) -> IncidentRecord:
        """Mark an incident open, resolved or escalated."""
        try:
            value = IncidentStatus(status).value
        except ValueError as exc:
            raise InvalidInputError(f"unknown incident status {status!r}") from exc
        with self._write(f"incident {incident_id!r}") as tx:
            if tx.execute("UPDATE incidents SET status = ? WHERE id = ?", (value, incident_id)) == 0:
                raise UnknownIncidentError(incident_id)
        return self.get_incident(incident_id)

    def list_incidents(
        self,
        *,
        status: IncidentStatus | str | None = None,
        namespace: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> IncidentPage:
        """Incidents, newest first (by first sighting), optionally by status and namespace."""
        rows.check_limit(limit, MAX_PAGE)
        where, params = [], []
        if status is not None:
            try:
                params.append(IncidentStatus(status).value)
            except ValueError as exc:
                raise InvalidInputError(f"unknown incident status {status!r}") from exc
            where.append("status = ?")
        if namespace is not None:
            where.append("namespace = ?")
            params.append(namespace)
        self._after_cursor(cursor, "first_seen", where, params)
        sql = f"SELECT {rows.INCIDENT_COLUMNS} FROM incidents"
        found = self._page(sql, where, params, "first_seen", limit)
        items = [rows.incident_of(self._db, row) for row in found[:limit]]
        more = len(found) > limit
        return IncidentPage(
            items=items, next_cursor=rows.encode_cursor(items[-1].first_seen, items[-1].id) if more else None
        )

    # --- runs -----------------------------------------------------------------------------

    def create_run(self, run: NewRun) -> RunRecord:
        """Store a new run; ConflictError on a duplicate id or if its fingerprint has an active run."""
        return self._create(run, fold=False)[0]

    def open_run(self, run: NewRun) -> tuple[RunRecord, bool]:
        """Storm folding: the fingerprint's active run and False, or `run` newly created and True."""
        return self._create(run, fold=True)

    def _create(self, run: NewRun, *, fold: bool) -> tuple[RunRecord, bool]:
        with self._write(f"run {run.id!r}") as tx:
            self._db.lock(tx, f"fingerprint:{run.fingerprint}")
            if run.incident_id is not None and tx.one(
                "SELECT id FROM incidents WHERE id = ?", (run.incident_id,)
            ) is None:  # fmt: skip
                raise UnknownIncidentError(run.incident_id)
            if run.status.active:
                active = self._active(tx, run.fingerprint)
                if active is not None:
                    if fold:
                        return active, False
                    raise ConflictError(
                        f"fingerprint {run.fingerprint!r} already has active run {active.id!r}"
                    )
            if tx.one("SELECT id FROM runs WHERE id = ?", (run.id,)) is not None:
                raise ConflictError(f"run {run.id!r} already exists")
            created = self._db.ts_param(run.created_at)
            finished = None if run.status.active else created
            target = run.target
            tx.execute(
                f"INSERT INTO runs ({rows.RUN_COLUMNS}) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run.id, run.incident_id, run.fingerprint, target.namespace, target.kind, target.name,
                 run.mode, run.provider, run.status.value, created, created, finished, None, None,
                 self._db.json_param([]), None, None, 0),
            )  # fmt: skip
            row = tx.one(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE id = ?", (run.id,))
            self._db.announce(tx, f"run:{run.id}")
        self._signal.publish()
        assert row is not None
        return rows.run_of(self._db, row), True

    def _active(self, tx: Tx, fingerprint: str) -> RunRecord | None:
        placeholders = ", ".join("?" for _ in ACTIVE_STATUSES)
        row = tx.one(
            f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE fingerprint = ? AND status IN ({placeholders})"
            " ORDER BY created_at DESC, id DESC",
            (fingerprint, *sorted(s.value for s in ACTIVE_STATUSES)),
        )
        return rows.run_of(self._db, row) if row else None

    def active_run(self, fingerprint: str) -> RunRecord | None:
        """The run in progress (queued, running or waiting for approval) for a fingerprint, if any."""
        with self._db.read() as tx:
            return self._active(tx, fingerprint)

    def get_run(self, run_id: str) -> RunRecord:
        """One run; UnknownRunError when there is none."""
        with self._db.read() as tx:
            row = tx.one(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise UnknownRunError(run_id)
        return rows.run_of(self._db, row)

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str = _UNSET,
        diagnosis: Any = _UNSET,
        decision: Any = _UNSET,
        actions: list[Any] = _UNSET,
        verification: Any = _UNSET,
        error: str | None = _UNSET,
    ) -> RunRecord:
        """Change the given fields (JSON values replace what was stored); a finished run keeps its status."""
        changes: dict[str, Any] = {}
        for column, value in (
            ("diagnosis", diagnosis),
            ("decision", decision),
            ("verification", verification),
        ):
            if value is not _UNSET:
                changes[column] = self._db.json_param(_json(column, value))
        if actions is not _UNSET:
            changes["actions"] = self._db.json_param(_json("actions", rows.as_json_list(actions)))
        if error is not _UNSET:
            changes["error"] = error
        with self._write(f"run {run_id!r}") as tx:
            row = tx.one(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE id = ?{self._db.for_update}", (run_id,))
            if row is None:
                raise UnknownRunError(run_id)
            current = rows.run_of(self._db, row)
            now = utc_now()
            if status is not _UNSET:
                new = _status(status)
                if new is not current.status and not current.status.active:
                    raise ConflictError(
                        f"run {run_id!r} is {current.status.value}; it cannot become {new.value}"
                    )
                changes["status"] = new.value
                if not new.active and current.status.active:
                    changes["finished_at"] = self._db.ts_param(now)
            changes["updated_at"] = self._db.ts_param(now)
            assignments = ", ".join(f"{column} = ?" for column in changes)
            tx.execute(f"UPDATE runs SET {assignments} WHERE id = ?", (*changes.values(), run_id))
            row = tx.one(f"SELECT {rows.RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,))
            self._db.announce(tx, f"run:{run_id}")
        self._signal.publish()
        assert row is not None
        return rows.run_of(self._db, row)

    def list_runs(
        self,
        *,
        status: RunStatus | str | Iterable[RunStatus | str] | None = None,
        namespace: str | None = None,
        workload: str | None = None,
        incident_id: str | None = None,
        fingerprint: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> RunPage:
        """Runs, newest first, filtered by status(es), namespace, workload name, incident or fingerprint."""
        rows.check_limit(limit, MAX_PAGE)
        where: list[str] = []
        params: list[Any] = []
        statuses = _statuses(status)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        for column, value in (("namespace", namespace), ("name", workload), ("incident_id", incident_id),
                              ("fingerprint", fingerprint)):  # fmt: skip
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        self._after_cursor(cursor, "created_at", where, params)
        found = self._page(f"SELECT {rows.RUN_COLUMNS} FROM runs", where, params, "created_at", limit)
        items = [rows.run_of(self._db, row) for row in found[:limit]]
        more = len(found) > limit
        return RunPage(
            items=items, next_cursor=rows.encode_cursor(items[-1].created_at, items[-1].id) if more else None
        )

    def _after_cursor(self, cursor: str | None, column: str, where: list[str], params: list[Any]) -> None:
        if cursor is None:
            return
        at, record_id = rows.decode_cursor(cursor)
        where.append(f"({column} < ? OR ({column} = ? AND id < ?))")
        params.extend([self._db.ts_param(at), self._db.ts_param(at), record_id])

    def _page(self, sql: str, where: list[str], params: list[Any], column: str, limit: int) -> list[Any]:
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {column} DESC, id DESC LIMIT ?"
        with self._db.read() as tx:
            return tx.all(sql, (*params, limit + 1))

    # --- trace events and blobs -------------------------------------------------------------

    def append_event(self, run_id: str, event: TraceEvent) -> TraceEvent:
        """Store an event as the run's next one; the stored event (blobs referenced) with its seq and id."""
        if not isinstance(event, TraceEvent):
            raise InvalidInputError(f"expected a TraceEvent, got {type(event).__name__}")
        if event.run_id != run_id:
            raise InvalidInputError(f"event belongs to run {event.run_id!r}, not {run_id!r}")
        if event.seq is not None or event.id is not None:
            raise InvalidInputError("seq and id are assigned by the run store; append events without them")
        try:
            stored, blobs = externalize(TraceEvent.model_validate(event.model_dump()))
        except ValidationError as exc:
            raise InvalidInputError(f"malformed trace event: {exc}") from exc
        with self._write(f"trace event of run {run_id!r}") as tx:
            self._db.lock(tx, _APPEND_LOCK)
            counter = tx.one(
                "UPDATE runs SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq", (run_id,)
            )
            if counter is None:
                raise UnknownRunError(run_id)
            seq = int(counter["last_seq"])
            self._put_blobs(tx, blobs)
            inserted = tx.one(
                "INSERT INTO trace_events (run_id, seq, ts, type, node, summary, payload, blobs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (run_id, seq, self._db.ts_param(stored.ts), stored.type.value, stored.node, stored.summary,
                 self._db.json_param(stored.payload),
                 self._db.json_param([ref.model_dump() for ref in stored.blobs])),
            )  # fmt: skip
            assert inserted is not None
            self._db.announce(tx, f"event:{inserted['id']}")
        self._signal.publish()
        return stored.model_copy(update={"seq": seq, "id": int(inserted["id"])})

    def _put_blobs(self, tx: Tx, blobs: list[Blob]) -> None:
        now = self._db.ts_param(utc_now())
        for blob in blobs:
            tx.execute(
                "INSERT INTO blobs (sha256, media_type, size, content, created_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (sha256) DO NOTHING",
                (blob.sha256, blob.media_type, len(blob.content), blob.content, now),
            )

    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 500) -> list[TraceEvent]:
        """A run's events with seq > `after_seq`, in order; UnknownRunError for an unknown run."""
        rows.check_limit(limit, MAX_PAGE)
        with self._db.read() as tx:
            if tx.one("SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
                raise UnknownRunError(run_id)
            found = tx.all(
                f"SELECT {rows.EVENT_COLUMNS} FROM trace_events"
                " WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, after_seq, limit),
            )
        return [rows.event_of(self._db, row) for row in found]

    def all_events(self, *, after_id: int = 0, limit: int = 500) -> list[TraceEvent]:
        """Every run's events with id > `after_id`, in the order they were stored."""
        rows.check_limit(limit, MAX_PAGE)
        with self._db.read() as tx:
            found = tx.all(
                f"SELECT {rows.EVENT_COLUMNS} FROM trace_events WHERE id > ? ORDER BY id LIMIT ?",
                (after_id, limit),
            )
        return [rows.event_of(self._db, row) for row in found]

    def get_blob(self, sha256: str) -> Blob:
        """A blob by its sha256; UnknownBlobError when there is none."""
        with self._db.read() as tx:
            row = tx.one("SELECT sha256, media_type, content FROM blobs WHERE sha256 = ?", (sha256,))
        if row is None:
            raise UnknownBlobError(sha256)
        return Blob(row["sha256"], row["media_type"], bytes(row["content"]))

    def inline_event(self, event: TraceEvent) -> TraceEvent:
        """The event with its blob references replaced by their content."""
        return inline(event, self.get_blob)

    # --- waiting for new events ---------------------------------------------------------------

    def _newer(self, run_id: str | None, after: int) -> bool:
        with self._db.read() as tx:
            if run_id is None:
                row = tx.one("SELECT id FROM trace_events WHERE id > ? ORDER BY id LIMIT 1", (after,))
                return row is not None
            row = tx.one("SELECT last_seq FROM runs WHERE id = ?", (run_id,))
        if row is None:
            raise UnknownRunError(run_id)
        return int(row["last_seq"]) > after

    def wait_for_events(self, *, run_id: str | None = None, after: int = 0, timeout: float = 30.0) -> bool:
        """Block until a run has an event with seq > `after` (or, without a run, any with id > `after`).

        True when there is one, False when `timeout` seconds passed first. Wakes at once for
        this process's appends and PostgreSQL notifications; polls for SQLite writes elsewhere.
        """
        self._db.listen(self._signal)
        deadline = time.monotonic() + timeout
        while True:
            seen = self._signal.version
            if self._newer(run_id, after):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._signal.wait(seen, min(remaining, self._db.poll_interval))

    async def wait_for_events_async(
        self, *, run_id: str | None = None, after: int = 0, timeout: float = 30.0
    ) -> bool:
        """`wait_for_events` for asyncio (the SSE layer): the loop keeps serving while this waits."""
        self._db.listen(self._signal)
        deadline = time.monotonic() + timeout
        while True:
            seen = self._signal.version
            if await asyncio.to_thread(self._newer, run_id, after):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            await self._signal.wait_async(seen, min(remaining, self._db.poll_interval))

    # --- audit log --------------------------------------------------------------------------

    def append_audit(self, run_id: str, entry: AuditEntry) -> AuditRecord:
        """Record who did what, why, with which diff, and the result, for a run."""
        with self._write(f"audit entry of run {run_id!r}") as tx:
            if tx.one("SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
                raise UnknownRunError(run_id)
            row = tx.one(
                "INSERT INTO audit_log (run_id, ts, who, what, why, diff, result, action, target, details)"
                f" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {rows.AUDIT_COLUMNS}",
                (run_id, self._db.ts_param(entry.ts), entry.who, entry.what, entry.why, entry.diff,
                 entry.result, entry.action, entry.target, self._db.json_param(entry.details)),
            )  # fmt: skip
        assert row is not None
        return rows.audit_of(self._db, row)

    def audit_log(
        self, *, run_id: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[AuditRecord]:
        """Audit entries with id > `after_id`, oldest first, of one run or all."""
        rows.check_limit(limit, MAX_PAGE)
        where, params = "id > ?", [after_id]
        if run_id is not None:
            where += " AND run_id = ?"
            params.append(run_id)
        with self._db.read() as tx:
            found = tx.all(f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log WHERE {where} ORDER BY id LIMIT ?",
                           (*params, limit))  # fmt: skip
        return [rows.audit_of(self._db, row) for row in found]


def _status(value: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"unknown run status {value!r}; known: {[s.value for s in RunStatus]}"
        ) from exc


def _json(field: str, value: Any) -> Any:
    """Plain JSON for a run's JSON column (pydantic models are dumped); InvalidInputError otherwise."""
    try:
        converted = to_jsonable_python(value)
        check_json(converted, field)
    except (ValueError, PydanticSerializationError) as exc:
        raise InvalidInputError(f"{field} is not plain JSON: {exc}") from exc
    return converted
