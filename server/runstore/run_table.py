"""Runs: at most one active run per fingerprint; a finished run never changes status again; an
approval is answered exactly once (`claim_answer`, a compare-and-set on the status)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic_core import PydanticSerializationError, to_jsonable_python

from agent.trace import check_json
from server.runstore import rows
from server.runstore.backend import Tx
from server.runstore.errors import (
    ConflictError,
    InvalidInputError,
    NotWaitingError,
    UnknownIncidentError,
)
from server.runstore.models import ACTIVE_STATUSES, NewRun, RunPage, RunRecord, RunStatus, utc_now
from server.runstore.table import Table, equal_to

_SELECT = rows.RUN_SELECT
_UNSET: Any = object()


def _status(value: RunStatus | str) -> RunStatus:
    try:
        return RunStatus(value)
    except ValueError as exc:
        raise InvalidInputError(
            f"unknown run status {value!r}; known: {[s.value for s in RunStatus]}"
        ) from exc


def _statuses(status: RunStatus | str | Iterable[RunStatus | str] | None) -> list[str]:
    if status is None:
        return []
    return [_status(value).value for value in ([status] if isinstance(status, str) else status)]


def _json(field: str, value: Any) -> Any:
    """Plain JSON for a run's JSON column (pydantic models are dumped); InvalidInputError otherwise."""
    try:
        converted = to_jsonable_python(value)
        check_json(converted, field)
    except (ValueError, PydanticSerializationError) as exc:
        raise InvalidInputError(f"{field} is not plain JSON: {exc}") from exc
    return converted


class RunTable(Table):
    """The run store's runs."""

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
            stored = self._run_in(tx, run.id)
            self._db.announce(tx, f"run:{run.id}")
        self._signal.publish()
        return stored, True

    def _active(self, tx: Tx, fingerprint: str) -> RunRecord | None:
        placeholders = ", ".join("?" for _ in ACTIVE_STATUSES)
        row = tx.one(
            f"{_SELECT} WHERE fingerprint = ? AND status IN ({placeholders})"
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
            return self._run_in(tx, run_id)

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
        attach_until: datetime | None = None,
    ) -> RunRecord:
        """Change the given fields (JSON values replace what was stored); a finished run keeps its status.

        `attach_until` opens the ended run's cooldown window in the same write as the status that
        ends it: a sighting read between the two would otherwise find neither an active run nor a
        window, and open a second run for the incident. None leaves it as it is.
        """
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
        if attach_until is not None:
            changes["attach_until"] = self._db.ts_param(attach_until)
        with self._write(f"run {run_id!r}") as tx:
            current = self._run_in(tx, run_id, lock=True)
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
            stored = self._run_in(tx, run_id)
            self._db.announce(tx, f"run:{run_id}")
        self._signal.publish()
        return stored

    def claim_answer(self, run_id: str) -> RunRecord:
        """Take the answer to the approval run `run_id` waits on: `waiting_approval` -> `running`, atomically.

        A compare-and-set in one write transaction (`UPDATE ... WHERE status = 'waiting_approval'`,
        then the changed row count): of any number of concurrent answers, on one replica or many,
        exactly one gets the run; every other gets `NotWaitingError` naming the status it found.
        Unknown runs raise `UnknownRunError`.
        """
        with self._write(f"run {run_id!r}") as tx:
            now = self._db.ts_param(utc_now())
            changed = tx.execute(
                "UPDATE runs SET status = ?, updated_at = ? WHERE id = ? AND status = ?",
                (RunStatus.RUNNING.value, now, run_id, RunStatus.WAITING_APPROVAL.value),
            )
            stored = self._run_in(tx, run_id)
            if changed != 1:
                raise NotWaitingError(run_id, stored.status.value)
            self._db.announce(tx, f"run:{run_id}")
        self._signal.publish()
        return stored

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
        where, params = equal_to(
            {"namespace": namespace, "name": workload, "incident_id": incident_id, "fingerprint": fingerprint}
        )
        statuses = _statuses(status)
        if statuses:
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params.extend(statuses)
        found, more = self._page(_SELECT, where, params, "created_at", limit, cursor)
        items = [rows.run_of(self._db, row) for row in found]
        after = rows.encode_cursor(items[-1].created_at, items[-1].id) if more else None
        return RunPage(items=items, next_cursor=after)
