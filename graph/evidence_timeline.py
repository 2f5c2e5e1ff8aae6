"""The cluster's side of a run's timeline: the events, commits, rollouts and metric changes the
evidence holds, as dated entries the analyst records in the trace (the server merges them with
Paramedic's own steps, see server/run_timeline.py)."""

from __future__ import annotations

from typing import Any

from agent.domain import Evidence, EvidenceKind
from tools.evidence.item_data import CommitData, EventData, MetricData, RolloutData

TIMELINE_NOTE = "evidence timeline"
MAX_ENTRIES = 60


def _entry(at: str, source: str, title: str, ref: str) -> dict[str, Any]:
    return {"at": at, "source": source, "title": title[:300], "evidence": ref}


def evidence_timeline(evidence: Evidence) -> list[dict[str, Any]]:
    """Dated entries (`at` ISO 8601, or "" when the evidence has no time), oldest first, capped."""
    entries: list[dict[str, Any]] = []
    for item in evidence.items:
        if item.kind is EvidenceKind.EVENT:
            event = EventData.read(item.data)
            count = f" x{event.count}" if event.count and event.count > 1 else ""
            title = (
                f"{event.type} {event.reason}{count} on {event.involved_kind.lower()}/{event.involved_name}"
            )
            entries.append(_entry(event.last_seen, "event", f"{title}: {event.message}", item.id))
        elif item.kind is EvidenceKind.COMMIT:
            commit = CommitData.read(item.data)
            first_line = commit.message.splitlines()[0] if commit.message else ""
            entries.append(
                _entry(commit.date, "commit", f"{commit.sha[:12]} {first_line} ({commit.author})", item.id)
            )
        elif item.kind is EvidenceKind.ROLLOUT:
            rollout = RolloutData.read(item.data)
            now = " (running now)" if rollout.current else ""
            cause = f": {rollout.change_cause}" if rollout.change_cause else ""
            entries.append(_entry("", "rollout", f"revision {rollout.revision}{now}{cause}", item.id))
        elif item.kind is EvidenceKind.METRIC:
            metric = MetricData.read(item.data)
            if metric.previous is not None and metric.value is not None and metric.previous != metric.value:
                title = (
                    f"{metric.name} changed {metric.previous:g} -> {metric.value:g} {metric.unit}".rstrip()
                )
                entries.append(_entry("", "metric", title, item.id))
    dated = sorted((e for e in entries if e["at"]), key=lambda e: e["at"])
    return (dated + [e for e in entries if not e["at"]])[-MAX_ENTRIES:]
