"""The run store's interface: what the server, the runner and the dashboard may ask of it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from agent.domain import Incident
from agent.trace import Blob, TraceEvent
from server.runstore.models import (
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


@runtime_checkable
class RunStore(Protocol):
    """Incidents, runs, their ordered trace events, content-addressed blobs and the audit log.

    Unknown ids raise `NotFoundError` subclasses, bad arguments `InvalidInputError`,
    contradicting writes `ConflictError` (see `server.runstore.errors`).
    """

    kind: str

    def close(self) -> None: ...

    # incidents
    def record_incident(self, incident: Incident, *, seen_at: datetime | None = None) -> IncidentRecord: ...
    def get_incident(self, incident_id: str) -> IncidentRecord: ...
    def set_incident_status(self, incident_id: str, status: IncidentStatus | str) -> IncidentRecord: ...
    def list_incidents(
        self,
        *,
        status: IncidentStatus | str | None = None,
        namespace: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> IncidentPage: ...

    # runs
    def create_run(self, run: NewRun) -> RunRecord: ...
    def open_run(self, run: NewRun) -> tuple[RunRecord, bool]: ...
    def active_run(self, fingerprint: str) -> RunRecord | None: ...
    def get_run(self, run_id: str) -> RunRecord: ...
    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str = ...,
        diagnosis: Any = ...,
        decision: Any = ...,
        actions: list[Any] = ...,
        verification: Any = ...,
        error: str | None = ...,
    ) -> RunRecord: ...
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
    ) -> RunPage: ...

    # trace
    def append_event(self, run_id: str, event: TraceEvent) -> TraceEvent: ...
    def events(self, run_id: str, *, after_seq: int = 0, limit: int = 500) -> list[TraceEvent]: ...
    def all_events(self, *, after_id: int = 0, limit: int = 500) -> list[TraceEvent]: ...
    def get_blob(self, sha256: str) -> Blob: ...
    def inline_event(self, event: TraceEvent) -> TraceEvent: ...
    def wait_for_events(
        self, *, run_id: str | None = None, after: int = 0, timeout: float = 30.0
    ) -> bool: ...
    async def wait_for_events_async(
        self, *, run_id: str | None = None, after: int = 0, timeout: float = 30.0
    ) -> bool: ...

    # audit
    def append_audit(self, run_id: str, entry: AuditEntry) -> AuditRecord: ...
    def audit_log(
        self, *, run_id: str | None = None, after_id: int = 0, limit: int = 100
    ) -> list[AuditRecord]: ...
