"""How alike two incidents are, and how a list of outcomes adds up: pure functions the store's
memory table and the tests share."""

from __future__ import annotations

import re
from collections.abc import Iterable

from graph.memory.models import IncidentSignature, MemoryOutcome, TrackRecord

TEXT_WEIGHT = 0.3  # of the score: the database's full-text rank, relative to the best candidate
OVERLAP_WEIGHT = 0.7  # of the score: Jaccard overlap of signature tokens
# Words the log masking writes, and words that say nothing about a failure.
_NOISE = frozenset({"n", "ts", "id", "ip", "str", "pod", "hash", "hex", "secret", "the", "a", "an", "of",
                    "to", "in", "on", "at", "is", "for", "and", "or", "with", "by", "from"})  # fmt: skip
_WORD = re.compile(r"[a-z0-9_]+")
MAX_TERMS = 40


def search_terms(document: str) -> list[str]:
    """The distinct words of a signature document worth searching for (lower case, noise dropped)."""
    words = dict.fromkeys(w for w in _WORD.findall(document.lower()) if len(w) > 1 and w not in _NOISE)
    return list(words)[:MAX_TERMS]


def _kinds(tokens: Iterable[str]) -> set[str]:
    return {token.split(":", 1)[0] for token in tokens}


def overlap(query: IncidentSignature, candidate: IncidentSignature) -> float:
    """Jaccard overlap of the two signatures' tokens, over the parts the query has: a query made
    before the diagnosis is not penalised for lacking the candidate's category or fix."""
    mine = query.tokens()
    kinds = _kinds(mine)
    theirs = {t for t in candidate.tokens() if t.split(":", 1)[0] in kinds}
    union = mine | theirs
    return len(mine & theirs) / len(union) if union else 0.0


def combined_score(query: IncidentSignature, candidate: IncidentSignature, text_rank: float) -> float:
    """The similarity score, 0..1: signature overlap and the relative full-text rank (0..1) combined."""
    if not (query.tokens() & candidate.tokens()) - {f"kind:{query.workload_kind.lower()}"}:
        return 0.0  # the same kind of workload alone is not a similar incident
    text = min(max(text_rank, 0.0), 1.0)
    return OVERLAP_WEIGHT * overlap(query, candidate) + TEXT_WEIGHT * text


def track_record(outcomes_newest_first: Iterable[MemoryOutcome]) -> TrackRecord:
    """Successes, failures (rejections included) and the failures since the last success."""
    successes = failures = rejections = recent = 0
    streak = True
    for outcome in outcomes_newest_first:
        worked = outcome.fix_worked
        if worked is None:
            continue
        if worked:
            successes += 1
            streak = False
            continue
        failures += 1
        rejections += outcome is MemoryOutcome.REJECTED
        if streak:
            recent += 1
    return TrackRecord(successes=successes, failures=failures, rejections=rejections, recent_failures=recent)
