"""Incidents: sightings of one fingerprint fold into its open incident."""

from __future__ import annotations

from datetime import datetime

from agent.domain import Incident
from server.runstore import rows
from server.runstore.errors import InvalidInputError, UnknownIncidentError
from server.runstore.models import IncidentPage, IncidentRecord, IncidentStatus, utc_now
from server.runstore.table import Table, equal_to

_SELECT = rows.INCIDENT_SELECT


def _incident_status(status: IncidentStatus | str) -> str:
    try:
        return IncidentStatus(status).value
    except ValueError as exc:
        raise InvalidInputError(f"unknown incident status {status!r}") from exc


class IncidentTable(Table):
    """The run store's incidents."""

    def record_incident(self, incident: Incident, *, seen_at: datetime | None = None) -> IncidentRecord:
        """Fold a sighting into the fingerprint's open incident, reopen its latest closed one, or open
        one with `incident.id` when the fingerprint was never seen."""
        seen = seen_at or utc_now()
        with self._write(f"incident {incident.id!r}") as tx:
            self._db.lock(tx, f"fingerprint:{incident.fingerprint}")
            row = tx.one(
                f"{_SELECT} WHERE fingerprint = ? AND status = 'open'{self._db.for_update}",
                (incident.fingerprint,),
            )
            closed = None if row is not None else tx.one(
                f"{_SELECT} WHERE fingerprint = ? ORDER BY first_seen DESC, id DESC LIMIT 1",
                (incident.fingerprint,),
            )  # fmt: skip
            if row is not None:
                current = rows.incident_of(self._db, row)
                tx.execute(
                    "UPDATE incidents SET last_seen = ?, count = count + 1 WHERE id = ?",
                    (self._db.ts_param(max(current.last_seen, seen)), current.id),
                )
                incident_id = current.id
            elif closed is not None:
                # Failing again once resolved (or escalated): the same incident, open again.
                current = rows.incident_of(self._db, closed)
                tx.execute(
                    "UPDATE incidents SET last_seen = ?, count = count + 1, status = ?, resolved_at = NULL,"
                    " reopened = reopened + 1 WHERE id = ?",
                    (self._db.ts_param(max(current.last_seen, seen)), IncidentStatus.OPEN.value, current.id),
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
            return self._incident_in(tx, incident_id)

    def get_incident(self, incident_id: str) -> IncidentRecord:
        """One incident; UnknownIncidentError when there is none."""
        with self._db.read() as tx:
            return self._incident_in(tx, incident_id)

    def set_incident_status(self, incident_id: str, status: IncidentStatus | str) -> IncidentRecord:
        """Mark an incident open, resolved or escalated."""
        value = _incident_status(status)
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
        where, params = equal_to(
            {"status": None if status is None else _incident_status(status), "namespace": namespace}
        )
        found, more = self._page(_SELECT, where, params, "first_seen", limit, cursor)
        items = [rows.incident_of(self._db, row) for row in found]
        after = rows.encode_cursor(items[-1].first_seen, items[-1].id) if more else None
        return IncidentPage(items=items, next_cursor=after)
