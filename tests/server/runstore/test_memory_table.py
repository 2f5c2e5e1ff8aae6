"""Incident memory in the run store, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.domain import WorkloadRef
from graph.memory import IncidentSignature, MemoryOutcome
from server.runstore import InvalidInputError, RunStore
from server.runstore.memory_models import MemoryEntry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEB = WorkloadRef(namespace="shop", name="web-api")
CART = WorkloadRef(namespace="shop", name="cart")
OOM = IncidentSignature(
    workload_kind="Deployment",
    reasons=("oomkilled", "crashloopbackoff", "backoff"),
    log_fingerprints=("java.lang.OutOfMemoryError: Java heap space",),
    category="oom",
    changed_fields=("spec.template.spec.containers[].resources.limits.memory",),
    fix_kind="gitops_pr:resources.limits.memory",
)
IMAGE = IncidentSignature(
    workload_kind="Deployment",
    reasons=("imagepullbackoff", "errimagepull", "failed"),
    log_fingerprints=(),
    category="bad_image",
    changed_fields=("spec.template.spec.containers[].image",),
    fix_kind="gitops_pr:image",
)


def _entry(run_id: str, signature: IncidentSignature, outcome: MemoryOutcome, *, target: WorkloadRef = WEB,
           at: datetime = T0, summary: str = "") -> MemoryEntry:  # fmt: skip
    return MemoryEntry(
        run_id=run_id,
        recorded_at=at,
        target=target,
        category=signature.category,
        fix_kind=signature.fix_kind,
        outcome=outcome,
        signature=signature.to_data(),
        summary=summary,
    )


def _before_diagnosis(signature: IncidentSignature) -> IncidentSignature:
    return IncidentSignature(signature.workload_kind, signature.reasons, signature.log_fingerprints)


def test_similar_incidents_rank_the_same_failure_first_and_say_how_it_ended(store: RunStore) -> None:
    store.remember(_entry("r-oom-1", OOM, MemoryOutcome.HEALED))
    store.remember(_entry("r-oom-2", OOM, MemoryOutcome.HEALED, target=CART, at=T0 + timedelta(hours=1)))
    store.remember(_entry("r-img", IMAGE, MemoryOutcome.HEALED))
    found = store.similar_incidents(_before_diagnosis(OOM), limit=3)
    assert [s.run_id for s in found][:2] == ["r-oom-2", "r-oom-1"]  # equally alike: newest first
    assert all(s.score > 0.9 for s in found[:2])
    assert "r-img" not in {s.run_id for s in found}  # nothing in common but the workload kind
    assert found[0].summary == "healed by changing the memory limit by pull request"
    assert found[0].category == "oom"


def test_similarity_ignores_masked_differences_and_excludes_the_asking_run(store: RunStore) -> None:
    store.remember(_entry("r-oom-1", OOM, MemoryOutcome.FAILED))
    partial = IncidentSignature("Deployment", reasons=("oomkilled",))
    found = store.similar_incidents(partial)
    assert [s.run_id for s in found] == ["r-oom-1"]
    assert 0 < found[0].score < 1
    assert store.similar_incidents(partial, exclude_run="r-oom-1") == []
    assert store.similar_incidents(IncidentSignature("Deployment", reasons=("evicted",))) == []


def test_fix_history_counts_outcomes_overall_and_here_with_rejections(store: RunStore) -> None:
    outcomes = [
        MemoryOutcome.HEALED,
        MemoryOutcome.REJECTED,
        MemoryOutcome.ROLLED_BACK,
        MemoryOutcome.ESCALATED,
    ]
    for n, outcome in enumerate(outcomes):
        store.remember(_entry(f"r{n}", OOM, outcome, at=T0 + timedelta(hours=n)))
    store.remember(_entry("other", OOM, MemoryOutcome.HEALED, target=CART))
    history = store.fix_history("oom", "gitops_pr:resources.limits.memory", WEB)
    assert (history.overall.successes, history.overall.failures) == (2, 2)
    assert (history.here.successes, history.here.failures, history.here.rejections) == (1, 2, 1)
    assert history.here.recent_failures == 2  # the two newest failures came after the success
    assert store.fix_history("oom", "restart", WEB).overall.total == 0


def test_remembering_a_run_again_replaces_it(store: RunStore) -> None:
    store.remember(_entry("r1", OOM, MemoryOutcome.FAILED))
    store.remember(_entry("r1", OOM, MemoryOutcome.HEALED))
    assert [(e.run_id, e.outcome) for e in store.memory_entries()] == [("r1", MemoryOutcome.HEALED)]
    assert len(store.similar_incidents(_before_diagnosis(OOM))) == 1


def test_memory_keeps_redacted_data_only(store: RunStore) -> None:
    leaky = IncidentSignature(
        "Deployment", reasons=("error",), log_fingerprints=("auth failed password=hunter2",)
    )
    store.remember(
        _entry("r1", leaky, MemoryOutcome.ESCALATED, summary="token ghp_abcdefghijklmnopqrstuvwxyz0123456789")
    )
    [entry] = store.memory_entries()
    assert "hunter2" not in str(entry.signature) and "ghp_" not in entry.summary
    assert "«redacted:" in entry.summary


def test_forget_needs_a_filter_and_erases_from_the_full_text_index_too(store: RunStore) -> None:
    store.remember(_entry("r1", OOM, MemoryOutcome.HEALED))
    store.remember(_entry("r2", OOM, MemoryOutcome.HEALED, target=CART))
    with pytest.raises(InvalidInputError):
        store.forget()
    assert store.forget(workload="web-api") == 1
    assert [s.run_id for s in store.similar_incidents(_before_diagnosis(OOM))] == ["r2"]
    assert store.forget(everything=True) == 1
    assert store.memory_entries() == []


def test_retention_drops_old_entries_then_caps_the_count(store: RunStore) -> None:
    for n in range(5):
        store.remember(_entry(f"r{n}", OOM, MemoryOutcome.HEALED, at=T0 + timedelta(days=n)))
    now = T0 + timedelta(days=3, hours=1)
    assert store.prune_memory(max_age=timedelta(days=3), max_entries=None, now=now) == 1  # r0
    assert store.prune_memory(max_age=None, max_entries=2) == 2  # r1, r2
    assert [e.run_id for e in store.memory_entries()] == ["r4", "r3"]
    assert [s.run_id for s in store.similar_incidents(_before_diagnosis(OOM))] == ["r4", "r3"]


def test_recurring_incidents_group_a_workload_failing_the_same_way(store: RunStore) -> None:
    for n in range(3):
        store.remember(_entry(f"w{n}", OOM, MemoryOutcome.HEALED if n else MemoryOutcome.FAILED,
                              at=T0 + timedelta(hours=n)))  # fmt: skip
    store.remember(_entry("c0", OOM, MemoryOutcome.HEALED, target=CART))
    [recurring] = store.recurring_incidents(min_count=3)
    assert (recurring.target, recurring.category, recurring.count) == (WEB, "oom", 3)
    assert recurring.outcomes == {"healed": 2, "failed": 1}
    assert store.recurring_incidents(min_count=3, since=T0 + timedelta(hours=1)) == []
