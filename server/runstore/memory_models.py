"""What incident memory stores per finished run: redacted, normalised, no raw logs or manifests."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from agent.domain import WorkloadRef
from graph.memory import MemoryOutcome
from tools.redaction import redact, redact_data

MAX_SUMMARY = 300


class MemoryEntry(BaseModel):
    """One remembered incident: the run it came from, its signature and how it ended.

    Everything is redacted again on the way in (`summary` and the signature's text), whatever the
    source: a run of this Paramedic, or an export from another cluster.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str = Field(min_length=1, max_length=200)
    recorded_at: AwareDatetime
    target: WorkloadRef
    category: str | None = None
    fix_kind: str | None = Field(default=None, max_length=300)
    outcome: MemoryOutcome
    signature: dict[str, Any] = Field(default_factory=dict)
    summary: str = Field(default="", max_length=MAX_SUMMARY * 4)

    @field_validator("summary")
    @classmethod
    def _redacted_summary(cls, value: str) -> str:
        return redact(value)[:MAX_SUMMARY]

    @field_validator("signature")
    @classmethod
    def _redacted_signature(cls, value: dict[str, Any]) -> dict[str, Any]:
        redacted = redact_data(value)
        return redacted if isinstance(redacted, dict) else {}


class RecurringIncident(BaseModel):
    """A workload that kept failing the same way (for the scan)."""

    target: WorkloadRef
    category: str | None
    count: int
    last_seen: AwareDatetime
    outcomes: dict[str, int]
