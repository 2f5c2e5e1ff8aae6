"""The incident lifecycle and sighting folds (schema version 2): resolve an incident when its run
heals or sees the workload recover, count the sightings folded into a run, and keep an ended run's
cooldown window, during which further sightings of its fingerprint attach to it.

These are separate from the incident and run tables' own operations on purpose: they write only
the columns version 2 added (plus an incident's status and sighting count), so the tables' inserts
and their other updates are unchanged.
"""

from __future__ import annotations

from datetime import datetime

from agent.domain import WorkloadRef
from server.runstore import rows
from server.runstore.errors import UnknownRunError
from server.runstore.models import IncidentRecord, IncidentStatus, RunRecord
from server.runstore.table import Table


class LifecycleTable(Table):
    """Resolving incidents, folding sightings into runs, and ended runs' cooldown windows."""

    def resolve_incident(self, incident_id: str, at: datetime) -> IncidentRecord:
        """Mark an open incident resolved at `at` (an incident already resolved keeps its time)."""
        with self._write(f"incident {incident_id!r}") as tx:
            if self._incident_in(tx, incident_id, lock=True).status is not IncidentStatus.RESOLVED:
                tx.execute(
                    "UPDATE incidents SET status = ?, resolved_at = ? WHERE id = ?",
                    (IncidentStatus.RESOLVED.value, self._db.ts_param(at), incident_id),
                )
            return self._incident_in(tx, incident_id)

    def attach_sighting(self, incident_id: str, seen_at: datetime) -> IncidentRecord:
        """Count one more sighting of an incident without changing its status (a cooldown's repeat)."""
        with self._write(f"incident {incident_id!r}") as tx:
            current = self._incident_in(tx, incident_id, lock=True)
            tx.execute(
                "UPDATE incidents SET last_seen = ?, count = count + 1 WHERE id = ?",
                (self._db.ts_param(max(current.last_seen, seen_at)), incident_id),
            )
            return self._incident_in(tx, incident_id)

    def fold_into_run(self, run_id: str, at: datetime) -> RunRecord:
        """Count one sighting folded into (or attached to) a run, seen at `at`."""
        with self._write(f"run {run_id!r}") as tx:
            current = self._run_in(tx, run_id, lock=True)
            latest = at if current.last_folded_at is None else max(current.last_folded_at, at)
            tx.execute(
                "UPDATE runs SET folded = folded + 1, last_folded_at = ? WHERE id = ?",
                (self._db.ts_param(latest), run_id),
            )
            stored = self._run_in(tx, run_id)
            self._db.announce(tx, f"run:{run_id}")
        self._signal.publish()
        return stored

    def open_attach_window(self, run_id: str, until: datetime) -> RunRecord:
        """Let sightings of an ended run's fingerprint attach to it until `until`."""
        with self._write(f"run {run_id!r}") as tx:
            if tx.execute(
                "UPDATE runs SET attach_until = ? WHERE id = ?", (self._db.ts_param(until), run_id)
            ) == 0:  # fmt: skip
                raise UnknownRunError(run_id)
            return self._run_in(tx, run_id)

    def attach_window_run(
        self, fingerprint: str, at: datetime, target: WorkloadRef | None = None
    ) -> RunRecord | None:
        """The newest ended run of `fingerprint` (else, given `target`, of that workload) whose
        cooldown window is still open at `at`, if any."""
        found = self._window_run("fingerprint = ?", (fingerprint,), at)
        if found is None and target is not None:
            where = "namespace = ? AND kind = ? AND name = ?"
            found = self._window_run(where, (target.namespace, target.kind, target.name), at)
        return found

    def _window_run(self, where: str, params: tuple[str, ...], at: datetime) -> RunRecord | None:
        with self._db.read() as tx:
            row = tx.one(
                f"{rows.RUN_SELECT} WHERE {where} AND attach_until IS NOT NULL"
                " ORDER BY created_at DESC, id DESC LIMIT 1",
                params,
            )
        if row is None:
            return None
        run = rows.run_of(self._db, row)
        if run.status.active or run.attach_until is None or run.attach_until <= at:
            return None
        return run
