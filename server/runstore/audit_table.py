"""The audit log: who did what, why, with which diff, and the result; append-only."""

from __future__ import annotations

from server.runstore import rows
from server.runstore.errors import UnknownRunError
from server.runstore.models import AuditEntry, AuditRecord
from server.runstore.table import MAX_PAGE, Table


class AuditTable(Table):
    """The run store's audit log."""

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
        where = "id > ?"
        params: list[int | str] = [after_id]
        if run_id is not None:
            where += " AND run_id = ?"
            params.append(run_id)
        with self._db.read() as tx:
            found = tx.all(f"SELECT {rows.AUDIT_COLUMNS} FROM audit_log WHERE {where} ORDER BY id LIMIT ?",
                           (*params, limit))  # fmt: skip
        return [rows.audit_of(self._db, row) for row in found]
