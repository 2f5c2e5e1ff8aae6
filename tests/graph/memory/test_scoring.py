"""Similarity scores and track records: pure functions."""

from __future__ import annotations

from graph.memory import IncidentSignature, MemoryOutcome
from graph.memory.scoring import combined_score, overlap, search_terms, track_record

FULL = IncidentSignature("Deployment", ("oomkilled", "backoff"), ("<ts> java heap space",), "oom",
                         ("spec.x",), "restart")  # fmt: skip


def test_overlap_only_compares_the_parts_the_query_has() -> None:
    query = IncidentSignature("Deployment", ("oomkilled", "backoff"), ("<ts> java heap space",))
    assert overlap(query, FULL) == 1.0
    assert overlap(IncidentSignature("Deployment", ("oomkilled",)), FULL) == 2 / 3


def test_a_shared_workload_kind_alone_scores_nothing() -> None:
    assert combined_score(IncidentSignature("Deployment", ("evicted",)), FULL, 1.0) == 0.0
    assert 0.9 < combined_score(FULL, FULL, 1.0) <= 1.0
    assert combined_score(FULL, FULL, 0.0) < combined_score(FULL, FULL, 1.0)


def test_search_terms_drop_mask_words_and_noise() -> None:
    assert search_terms("<ts> ERROR connect to <ip> refused (pod <pod>)") == ["error", "connect", "refused"]


def test_track_record_counts_failures_since_the_last_success() -> None:
    record = track_record([MemoryOutcome.REJECTED, MemoryOutcome.FAILED, MemoryOutcome.ESCALATED,
                           MemoryOutcome.HEALED, MemoryOutcome.ROLLED_BACK])  # fmt: skip
    assert (record.successes, record.failures, record.rejections, record.recent_failures) == (1, 3, 1, 2)
    assert record.total == 4
