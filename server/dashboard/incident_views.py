"""What the incident pages and the pull request links show, computed from stored records and events.

An incident is a failing workload seen one or more times (`count`); its runs are the attempts to
heal it, oldest to newest. The incident page shows them, the pull requests they opened, and one
timeline: the incident's sightings and resolution, and each run's opening, decisions, actions,
waits, verifications, folded sightings and end, in time order. Like `views`, nothing here escapes
text (the templates do) and every lookup in untyped JSON happens here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from agent.trace import TraceEvent, TraceEventType
from server.dashboard.pull_views import PullLink, pulls_of
from server.dashboard.views import Badge, status_badge
from server.runstore import IncidentRecord, IncidentStatus, RunRecord, RunStatus

__all__ = [
    "IncidentRow",
    "Moment",
    "PullLink",
    "incident_badge",
    "incident_row",
    "incident_timeline",
    "pulls_of",
]

_INCIDENT_TONE = {IncidentStatus.OPEN: "warn", IncidentStatus.RESOLVED: "ok", IncidentStatus.ESCALATED: "bad"}
# The trace events an incident's timeline keeps (the run page has every event).
_TIMELINE_TYPES = frozenset(
    {
        TraceEventType.DECISION,
        TraceEventType.ACTION,
        TraceEventType.WAIT,
        TraceEventType.VERIFICATION,
        TraceEventType.APPROVAL,
        TraceEventType.ERROR,
    }
)
_TIMELINE_NOTE_NODES = frozenset({"intake", "pull_request"})


def incident_badge(status: IncidentStatus) -> Badge:
    """The badge of an incident's state."""
    return Badge(status.value, _INCIDENT_TONE.get(status, "neutral"))


@dataclass(frozen=True)
class IncidentRow:
    """One line of the incidents list."""

    id: str
    target: str
    reason: str
    trigger: str
    state: Badge
    count: int
    reopened: int
    first_seen: datetime
    last_seen: datetime
    runs: int
    latest: Badge | None  # the newest run's status
    latest_run: str | None


def incident_row(incident: IncidentRecord, runs: Sequence[RunRecord]) -> IncidentRow:
    """The incidents-list line for `incident` and its runs (newest first)."""
    ref = incident.target
    newest = runs[0] if runs else None
    return IncidentRow(
        id=incident.id,
        target=f"{ref.namespace}/{ref.kind}/{ref.name}",
        reason=incident.reason,
        trigger=incident.trigger,
        state=incident_badge(incident.status),
        count=incident.count,
        reopened=incident.reopened,
        first_seen=incident.first_seen,
        last_seen=incident.last_seen,
        runs=len(runs),
        latest=status_badge(newest.status) if newest else None,
        latest_run=newest.id if newest else None,
    )


@dataclass(frozen=True)
class Moment:
    """One entry of an incident's timeline."""

    at: datetime
    kind: str  # "incident", "run", or a trace event type
    text: str
    run_id: str | None = None
    href: str | None = None


def _run_end(run: RunRecord) -> str:
    if run.status is RunStatus.WAITING_MERGE:
        return "waits for a human to merge its pull request"
    return run.status.value.replace("_", " ")


def incident_timeline(
    incident: IncidentRecord, runs: Sequence[RunRecord], events: Mapping[str, Sequence[TraceEvent]]
) -> list[Moment]:
    """The incident's and its runs' key moments, oldest first (`events`: each run's trace)."""
    moments = [Moment(incident.first_seen, "incident", f"first seen: {incident.reason}")]
    if incident.count > 1:
        moments.append(Moment(incident.last_seen, "incident", f"last seen (seen {incident.count} times)"))
    if incident.resolved_at is not None:
        moments.append(Moment(incident.resolved_at, "incident", "resolved"))
    for run in runs:
        short = run.id[:12]
        href = f"/ui/runs/{run.id}"
        moments.append(Moment(run.created_at, "run", f"run {short} opened ({run.mode} mode)", run.id, href))
        for event in events.get(run.id, ()):
            keep = event.type in _TIMELINE_TYPES or (
                event.type is TraceEventType.NOTE and event.node in _TIMELINE_NOTE_NODES
            )
            if keep:
                moments.append(
                    Moment(event.ts, event.type.value, event.summary, run.id, f"{href}#event-{event.seq}")
                )
        if run.finished_at is not None or run.status is RunStatus.WAITING_MERGE:
            at = run.finished_at or run.updated_at
            moments.append(Moment(at, "run", f"run {short} {_run_end(run)}", run.id, href))
    return sorted(moments, key=lambda m: m.at)
