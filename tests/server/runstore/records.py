"""The incidents and runs the run-store tests record: one shop/web-api workload, one clock."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.domain import Incident, Trigger, WorkloadRef
from server.runstore import NewRun, RunStatus, RunStore

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEB = WorkloadRef(namespace="shop", name="web-api")


def new_run(
    run_id: str,
    fingerprint: str = "fp-web",
    *,
    target: WorkloadRef = WEB,
    at: datetime = T0,
    status: RunStatus = RunStatus.QUEUED,
    incident_id: str | None = None,
) -> NewRun:
    """A run of the rules provider in approve mode on `target`, created at `at`."""
    return NewRun(
        id=run_id,
        fingerprint=fingerprint,
        target=target,
        mode="approve",
        provider="rules",
        created_at=at,
        status=status,
        incident_id=incident_id,
    )


def new_incident(incident_id: str, fingerprint: str = "fp-web", at: datetime = T0) -> Incident:
    """A watcher's CrashLoopBackOff incident on shop/web-api, started at `at`."""
    return Incident(
        id=incident_id,
        fingerprint=fingerprint,
        target=WEB,
        trigger=Trigger.WATCHER,
        reason="CrashLoopBackOff",
        started_at=at,
        labels={"team": "shop"},
    )


def open_incident_run(store: RunStore, incident: Incident, mode: str) -> tuple[str, str, bool]:
    """What a launcher does on submit: record the incident, open its run or fold into the open one.

    Returns the incident's id, the run's id and whether the run is new."""
    record = store.record_incident(incident)
    run, new = store.open_run(
        NewRun(
            incident_id=record.id,
            fingerprint=incident.fingerprint,
            target=incident.target,
            mode=mode,
            provider="rules",
        )
    )
    return record.id, run.id, new
