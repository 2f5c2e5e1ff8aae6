"""The records the run store keeps: incidents, runs and audit entries (trace events live in agent.trace)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, JsonValue

from agent.domain import WorkloadRef


def utc_now() -> datetime:
    """Now, in UTC (every stored timestamp is UTC)."""
    return datetime.now(UTC)


class RunStatus(StrEnum):
    """Where a run is. The last six are final: a finished run never changes status again."""

    QUEUED = "queued"
    RUNNING = "running"
    WAITING_APPROVAL = "waiting_approval"
    WAITING_MERGE = "waiting_merge"  # its pull request waits for a human to merge (or close) it
    HEALED = "healed"
    ESCALATED = "escalated"
    REPORTED = "reported"
    FAILED = "failed"
    REJECTED = "rejected"
    RECOVERED = "recovered"  # the workload recovered on its own; the run changed nothing

    @property
    def active(self) -> bool:
        """True while the run can still make progress (storms fold into it)."""
        return self in ACTIVE_STATUSES


ACTIVE_STATUSES = frozenset(
    {RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING_APPROVAL, RunStatus.WAITING_MERGE}
)


class IncidentStatus(StrEnum):
    """Whether an incident still needs attention."""

    OPEN = "open"
    RESOLVED = "resolved"
    ESCALATED = "escalated"


class IncidentRecord(BaseModel):
    """A failing workload as stored: repeated sightings of one fingerprint fold into one open incident."""

    model_config = ConfigDict(frozen=True)

    id: str
    fingerprint: str
    target: WorkloadRef
    reason: str
    trigger: str
    summary: str = ""
    labels: dict[str, str] = Field(default_factory=dict)
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1)
    status: IncidentStatus
    resolved_at: AwareDatetime | None = Field(
        default=None, description="When a run healed the workload or saw it recover (while resolved)."
    )
    reopened: int = Field(default=0, ge=0, description="How often it was seen failing again once resolved.")


class NewRun(BaseModel):
    """What is known when a run is created."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1, max_length=200)
    incident_id: str | None = None
    fingerprint: str = Field(min_length=1)
    target: WorkloadRef
    mode: str = Field(min_length=1, description="An agent.config.Mode value.")
    provider: str = Field(min_length=1, description="Which reasoner: rules, openai, ollama, hybrid.")
    status: RunStatus = RunStatus.QUEUED
    created_at: AwareDatetime = Field(default_factory=utc_now)


class RunRecord(BaseModel):
    """A healing run as stored."""

    model_config = ConfigDict(frozen=True)

    id: str
    incident_id: str | None
    fingerprint: str
    target: WorkloadRef
    mode: str
    provider: str
    status: RunStatus
    created_at: AwareDatetime
    updated_at: AwareDatetime
    finished_at: AwareDatetime | None = None
    diagnosis: JsonValue = None
    decision: JsonValue = None
    actions: list[JsonValue] = Field(default_factory=list)
    verification: JsonValue = None
    error: str | None = None
    last_seq: int = Field(default=0, ge=0, description="The seq of the run's latest trace event.")
    folded: int = Field(
        default=0,
        ge=0,
        description="Sightings of its incident folded into it while it ran, or attached to it during its"
        " cooldown once it ended (a repeated alert, a watcher re-detection), instead of opening a run.",
    )
    last_folded_at: AwareDatetime | None = Field(default=None, description="The latest such sighting.")
    attach_until: AwareDatetime | None = Field(
        default=None, description="Once ended: sightings of its fingerprint attach to it until then."
    )


class RunPage(BaseModel):
    """One page of runs, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[RunRecord]
    next_cursor: str | None = None


class IncidentPage(BaseModel):
    """One page of incidents, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[IncidentRecord]
    next_cursor: str | None = None


class AuditEntry(BaseModel):
    """One remediation as the audit log keeps it: who did what, why, with which diff, and the result."""

    who: str = Field(min_length=1)
    what: str = Field(min_length=1)
    why: str
    diff: str = ""
    result: str = Field(min_length=1, description="A tools.result.ToolStatus value or a short outcome.")
    action: str | None = Field(default=None, description="An ActionType value.")
    target: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    ts: AwareDatetime = Field(default_factory=utc_now)


class AuditRecord(AuditEntry):
    """A stored audit entry: `id` increases globally, in append order."""

    model_config = ConfigDict(frozen=True)

    id: int
    run_id: str
