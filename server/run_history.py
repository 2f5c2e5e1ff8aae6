"""What a run's trace says about its past and its timeline, for the API and the dashboard:

- `similar_incidents(events)`: the past incidents the analyst recalled (its "similar past incidents"
  note), with the one-line headline ("2 similar incidents, 92%: both healed by ...");
- `run_timeline(events)`: one ordered timeline of the cluster's events, commits, rollouts and metric
  changes (the analyst's "evidence timeline" note) and Paramedic's own steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from agent.trace import TraceEvent, TraceEventType
from graph.evidence_timeline import TIMELINE_NOTE
from graph.memory.recall import SIMILAR_NOTE

Source = Literal["event", "commit", "rollout", "metric", "paramedic"]
_STEPS = {
    TraceEventType.NODE_END,
    TraceEventType.DECISION,
    TraceEventType.APPROVAL,
    TraceEventType.ACTION,
    TraceEventType.VERIFICATION,
    TraceEventType.ERROR,
}


class SimilarIncidentView(BaseModel):
    """A past incident the analyst recalled."""

    run_id: str
    target: str
    recorded_at: str
    score: float = Field(ge=0, le=1)
    outcome: str
    category: str | None = None
    fix_kind: str | None = None
    summary: str = ""


class SimilarIncidents(BaseModel):
    """The past incidents a run's analyst recalled, best first, with the headline."""

    recalled: bool = Field(description="False when memory was not consulted (not wired, or not yet).")
    headline: str = ""
    items: list[SimilarIncidentView] = Field(default_factory=list)


class TimelineEntry(BaseModel):
    """One moment of a run's story."""

    at: datetime | None = Field(description="When; None for evidence without a time (a rollout revision).")
    source: Source
    title: str
    node: str | None = None  # Paramedic's steps: the node
    seq: int | None = None  # Paramedic's steps: the trace event
    evidence: str | None = None  # the cluster's side: the evidence item id


class RunTimeline(BaseModel):
    """The cluster's history as the evidence shows it, then Paramedic's steps, in time order."""

    run_id: str
    entries: list[TimelineEntry]


def similar_incidents(events: Sequence[TraceEvent]) -> SimilarIncidents:
    """The latest recall in the trace (a later attempt recalls again)."""
    notes = [e for e in events if e.type is TraceEventType.NOTE and e.payload.get("kind") == SIMILAR_NOTE]
    if not notes:
        return SimilarIncidents(recalled=False)
    latest = notes[-1]
    raw = latest.payload.get("similar")
    items = (
        [SimilarIncidentView.model_validate(i) for i in raw if isinstance(i, dict)]
        if isinstance(raw, list)
        else []
    )
    return SimilarIncidents(recalled=True, headline=latest.summary, items=items)


def _parse(at: Any) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(at)) if at else None
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed is not None and parsed.tzinfo is None else parsed


def run_timeline(run_id: str, events: Sequence[TraceEvent]) -> RunTimeline:
    """Evidence entries (first recorded snapshot wins per item) and Paramedic's steps, in time order."""
    cluster: dict[str, TimelineEntry] = {}
    for event in events:
        if event.type is not TraceEventType.NOTE or event.payload.get("kind") != TIMELINE_NOTE:
            continue
        for raw in event.payload.get("entries") or []:
            if not isinstance(raw, dict) or raw.get("source") not in ("event", "commit", "rollout", "metric"):
                continue
            ref = str(raw.get("evidence") or "")
            cluster.setdefault(
                ref or str(len(cluster)),
                TimelineEntry(
                    at=_parse(raw.get("at")),
                    source=raw["source"],
                    title=str(raw.get("title") or ""),
                    evidence=ref or None,
                ),
            )
    steps = [
        TimelineEntry(at=e.ts, source="paramedic", title=e.summary or e.type.value, node=e.node, seq=e.seq)
        for e in events
        if e.type in _STEPS
    ]
    undated = [entry for entry in cluster.values() if entry.at is None]
    dated = sorted([*(entry for entry in cluster.values() if entry.at is not None), *steps], key=_when)
    return RunTimeline(run_id=run_id, entries=[*undated, *dated])


def _when(entry: TimelineEntry) -> tuple[float, int]:
    assert entry.at is not None
    return entry.at.timestamp(), entry.seq or 0
