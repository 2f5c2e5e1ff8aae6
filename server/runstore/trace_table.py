"""Trace events and their blobs: appended in order, read in order, and waited for.

Appending locks the run's row counter (and, on PostgreSQL, a global advisory lock), so `seq`
is gapless per run and `id` grows in commit order, across threads, processes and replicas.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import ValidationError

from agent.trace import Blob, TraceEvent, externalize, inline
from server.runstore import rows
from server.runstore.backend import Tx
from server.runstore.errors import InvalidInputError, UnknownBlobError, UnknownRunError
from server.runstore.models import utc_now
from server.runstore.table import MAX_PAGE, Table

_APPEND_LOCK = "trace-append"
_SELECT = f"SELECT {rows.EVENT_COLUMNS} FROM trace_events"


class TraceTable(Table):
    """The run store's trace events and blobs."""

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
                f"{_SELECT} WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?", (run_id, after_seq, limit)
            )
        return [rows.event_of(self._db, row) for row in found]

    def run_trace(self, run_id: str, *, inline: bool = True) -> list[TraceEvent]:
        """Every event of a run in seq order, read page by page; blobs inlined unless `inline` is False."""
        trace: list[TraceEvent] = []
        while True:
            batch = self.events(run_id, after_seq=trace[-1].seq or 0 if trace else 0, limit=MAX_PAGE)
            trace.extend(self.inline_event(e) if inline else e for e in batch)
            if len(batch) < MAX_PAGE:
                return trace

    def all_events(self, *, after_id: int = 0, limit: int = 500) -> list[TraceEvent]:
        """Every run's events with id > `after_id`, in the order they were stored."""
        rows.check_limit(limit, MAX_PAGE)
        with self._db.read() as tx:
            found = tx.all(f"{_SELECT} WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit))
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
