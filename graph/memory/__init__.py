"""Incident memory as the graph sees it: what a past incident looked like, how it ended, how it
compares to this one, and how often a kind of fix worked.

The graph never imports the server: the run store's memory reaches the nodes through the
`IncidentMemory` protocol in `HealingContext.memory`, wired by the composition root.
"""

from graph.memory.models import (
    FixHistory,
    IncidentMemory,
    IncidentSignature,
    MemoryOutcome,
    SimilarIncident,
    TrackRecord,
)
from graph.memory.signature import (
    describe_fix,
    fix_kind_of,
    log_fingerprints,
    outcome_of,
    signature_before_diagnosis,
    signature_of_run,
)

__all__ = [
    "FixHistory",
    "IncidentMemory",
    "IncidentSignature",
    "MemoryOutcome",
    "SimilarIncident",
    "TrackRecord",
    "describe_fix",
    "fix_kind_of",
    "log_fingerprints",
    "outcome_of",
    "signature_before_diagnosis",
    "signature_of_run",
]
