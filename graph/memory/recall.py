"""What the analyst recalls: similar past incidents as MEMORY evidence items, and a one-line summary
for the trace, the run's page and the chat ("2 similar incidents, 92%: both healed by ...")."""

from __future__ import annotations

from agent.domain import Evidence, EvidenceItem, EvidenceKind, Incident
from graph.memory.models import IncidentMemory, MemoryOutcome, SimilarIncident
from graph.memory.signature import signature_before_diagnosis
from tools.evidence.item_data import PastIncidentData

RECALL_LIMIT = 3
SIMILAR_NOTE = "similar past incidents"


def memory_item(similar: SimilarIncident) -> EvidenceItem:
    """A past incident as a citable evidence item (`memory:<run id>`)."""
    return EvidenceItem(
        id=f"memory:{similar.run_id}",
        kind=EvidenceKind.MEMORY,
        source=f"incident memory: run {similar.run_id} on {similar.target}",
        text=f"similar past incident ({similar.score:.0%} alike) on {similar.target}"
        f" at {similar.recorded_at}: "
        f"diagnosed {similar.category or 'unknown'}; {similar.summary}",
        data=PastIncidentData(**similar.to_data()).dump(),
    )


def headline(similar: list[SimilarIncident]) -> str:
    """One line: how many, how alike the best one is, and how they ended."""
    if not similar:
        return "no similar past incidents"
    count = len(similar)
    best = max(s.score for s in similar)
    noun = "incident" if count == 1 else "incidents"
    summaries = {s.summary for s in similar}
    outcomes = {s.outcome for s in similar}
    if count > 1 and len(summaries) == 1:
        how = f"{'both' if count == 2 else 'all'} {similar[0].summary}"
    elif outcomes == {MemoryOutcome.HEALED}:
        how = "all healed: " + "; ".join(sorted(summaries))
    else:
        how = "; ".join(s.summary for s in similar)
    return f"{count} similar {noun}, {best:.0%}: {how}"


def recall(
    memory: IncidentMemory, incident: Incident, evidence: Evidence, run_id: str
) -> list[SimilarIncident]:
    """The past incidents most like this one (never this run itself), best first."""
    signature = signature_before_diagnosis(incident, evidence)
    return memory.similar(signature, exclude_run=run_id, limit=RECALL_LIMIT)
