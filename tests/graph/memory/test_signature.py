"""Incident signatures: masked log lines, reasons, changed fields, fix kinds and outcomes."""

from __future__ import annotations

import pytest

from agent.domain import DirectPatch, GitOpsPullRequest, Restart, Rollback, Scale
from graph.memory import (
    IncidentSignature,
    MemoryOutcome,
    describe_fix,
    fix_kind_of,
    log_fingerprints,
    outcome_of,
    signature_before_diagnosis,
)
from graph.memory.log_masking import mask_line, trouble_lines
from graph.state import HealingState, initial_state
from tests.agent import evidence_samples as samples

MEMORY_PATCH = {"spec": {"template": {"spec": {"containers": [
    {"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}}}}  # fmt: skip


def test_masking_makes_the_same_error_on_another_pod_and_day_read_the_same() -> None:
    one = mask_line(
        "2026-03-01T10:00:01Z ERROR dial tcp 10.0.3.7:5432: connect: connection refused (attempt 3)"
    )
    two = mask_line(
        "2026-04-11T22:13:59Z ERROR dial tcp 10.9.1.2:5432: connect: connection refused (attempt 17)"
    )
    assert one == two == "<ts> ERROR dial tcp <ip>: connect: connection refused (attempt <n>)"
    assert mask_line(
        "pod web-api-7d9f8c6b5d-x2k9z id 3f2a9c1e-1111-2222-3333-444455556666 sha 9f86d081884c7d65"
    ) == ("pod <pod> id <id> sha <hash>")
    assert mask_line("token «redacted:3f9a1c» rejected") == "token <secret> rejected"


def test_only_distinct_trouble_lines_are_kept() -> None:
    text = "starting\nERROR out of memory at 0x7f00\nERROR out of memory at 0x7f10\nready\nFATAL: boom"
    assert trouble_lines(text) == ["ERROR out of memory at <hex>", "FATAL: boom"]


def test_signature_before_diagnosis_reads_reasons_and_logs_from_evidence() -> None:
    evidence = samples.oom()
    signature = signature_before_diagnosis(samples.incident("OOMKilled"), evidence)
    assert signature.workload_kind == "Deployment"
    assert "oomkilled" in signature.reasons and "backoff" in signature.reasons
    assert signature.log_fingerprints == log_fingerprints(evidence)
    assert signature.category is None and signature.fix_kind is None


@pytest.mark.parametrize(
    ("remediation", "kind", "words"),
    [
        (GitOpsPullRequest(patch=MEMORY_PATCH), "gitops_pr:resources.limits.memory",
         "changing the memory limit by pull request"),
        (DirectPatch(patch=MEMORY_PATCH), "patch:resources.limits.memory", "patching the memory limit"),
        (Restart(), "restart", "restarting the workload"),
        (Scale(replicas=3), "scale", "scaling the workload"),
        (Rollback(revision=2), "rollback", "rolling back to an earlier revision"),
        (None, None, "no fix"),
    ],
)  # fmt: skip
def test_fix_kinds_name_the_action_and_the_fields_it_changes(remediation, kind, words) -> None:
    assert fix_kind_of(remediation) == kind
    assert describe_fix(kind) == words


def test_signature_round_trips_and_tolerates_garbage() -> None:
    signature = IncidentSignature("StatefulSet", ("oomkilled",), ("x",), "oom", ("a.b",), "restart")
    assert IncidentSignature.from_data(signature.to_data()) == signature
    assert IncidentSignature.from_data({"reasons": "nope", "category": 3}) == IncidentSignature(
        "Deployment", category="3"
    )
    assert IncidentSignature.from_data(None).tokens() == {"kind:deployment"}


def _ended(outcome: str, **extra) -> HealingState:
    state = initial_state("r1", samples.incident())
    state.update(outcome=outcome, **extra)
    return state


def test_outcomes_tell_healed_failed_rolled_back_rejected_and_escalated_apart() -> None:
    unhealthy = [{"attempt": 1, "healthy": False, "detail": "still crashing", "checked_at": "t"}]
    assert outcome_of(_ended("healed")) is MemoryOutcome.HEALED
    assert outcome_of(_ended("rejected")) is MemoryOutcome.REJECTED
    assert outcome_of(_ended("reported")) is MemoryOutcome.REPORTED
    assert outcome_of(_ended("escalated")) is MemoryOutcome.ESCALATED
    assert outcome_of(_ended("escalated", verifications=unhealthy)) is MemoryOutcome.FAILED
    rolled = _ended("escalated", verifications=unhealthy, actions=[{"phase": "rollback"}])
    assert outcome_of(rolled) is MemoryOutcome.ROLLED_BACK
    assert outcome_of(initial_state("r1", samples.incident())) is None
    assert MemoryOutcome.REJECTED.fix_worked is False and MemoryOutcome.ESCALATED.fix_worked is None
