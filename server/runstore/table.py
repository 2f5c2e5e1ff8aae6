"""What every table of the run store shares: the database, the change signal, write transactions
that report clear errors, and newest-first paging with opaque cursors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from server.runstore import rows
from server.runstore.backend import Backend, Row, Tx
from server.runstore.errors import (
    ConflictError,
    InvalidInputError,
    RunStoreError,
    UnknownIncidentError,
    UnknownRunError,
)
from server.runstore.models import IncidentRecord, RunRecord
from server.runstore.signal import ChangeSignal

MAX_PAGE = 1000


def equal_to(filters: dict[str, Any]) -> tuple[list[str], list[Any]]:
    """`column = ?` conditions, and their parameters, for the filters that are set (None: any value).

    The column names are the callers' constants, never input; only the values are parameters."""
    given = {column: value for column, value in filters.items() if value is not None}
    return [f"{column} = ?" for column in given], list(given.values())


class Table:
    """The base of the run store's per-table parts; `RunStore` sets `_db` and `_signal`."""

    _db: Backend
    _signal: ChangeSignal  # published after each commit that readers may wait for

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

    def _incident_in(self, tx: Tx, incident_id: str, *, lock: bool = False) -> IncidentRecord:
        """Incident `incident_id` as `tx` sees it, its row locked until `tx` ends when `lock`.

        UnknownIncidentError when there is none."""
        row = tx.one(
            f"{rows.INCIDENT_SELECT} WHERE id = ?{self._db.for_update if lock else ''}", (incident_id,)
        )
        if row is None:
            raise UnknownIncidentError(incident_id)
        return rows.incident_of(self._db, row)

    def _run_in(self, tx: Tx, run_id: str, *, lock: bool = False) -> RunRecord:
        """Run `run_id` as `tx` sees it, its row locked until `tx` ends when `lock`.

        UnknownRunError when there is none."""
        row = tx.one(f"{rows.RUN_SELECT} WHERE id = ?{self._db.for_update if lock else ''}", (run_id,))
        if row is None:
            raise UnknownRunError(run_id)
        return rows.run_of(self._db, row)

    def _page(
        self, sql: str, where: list[str], params: list[Any], column: str, limit: int, cursor: str | None
    ) -> tuple[list[Row], bool]:
        """Up to `limit` rows newest first by (`column`, id), past `cursor`; and whether more follow."""
        rows.check_limit(limit, MAX_PAGE)
        if cursor is not None:
            at, record_id = rows.decode_cursor(cursor)
            where = [*where, f"({column} < ? OR ({column} = ? AND id < ?))"]
            params = [*params, self._db.ts_param(at), self._db.ts_param(at), record_id]
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY {column} DESC, id DESC LIMIT ?"
        with self._db.read() as tx:
            found = tx.all(sql, (*params, limit + 1))
        return found[:limit], len(found) > limit
