"""The healing state: JSON-native values, append reducers, accessors, and checkpointer round trips."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.graph import END, START, StateGraph

from agent.domain import (
    ActionType,
    Diagnosis,
    DirectPatch,
    Evidence,
    EvidenceItem,
    EvidenceKind,
    Incident,
    RootCause,
    Trigger,
    WorkloadRef,
)
from graph.state import (
    ActionRecord,
    HealingState,
    VerificationRecord,
    best_diagnosis,
    candidate,
    current_attempt,
    diagnoses_for,
    follow_record,
    incident_diagnosis,
    incident_of,
    initial_state,
    latest_evidence,
    subject_incident,
    subject_of,
    to_data,
    visited_of,
)

TARGET = WorkloadRef(namespace="shop", name="web-api")
INCIDENT = Incident(
    id="inc-1",
    fingerprint="3f2a9c0d1e2b4a5c",
    target=TARGET,
    trigger=Trigger.ALERT,
    reason="KubePodCrashLooping",
    started_at=datetime(2026, 3, 1, 11, 58, tzinfo=UTC),
    labels={"severity": "critical"},
)


def _diagnosis(confidence: float, category: RootCause = RootCause.OOM) -> Diagnosis:
    return Diagnosis(
        category=category,
        explanation='ünïcode and quotes " survive',
        faulty_resource="Deployment shop/web-api",
        faulty_field="spec.template.spec.containers[app].resources.limits.memory",
        cited_evidence=["log:web-api:app:previous"],
        confidence=confidence,
        remediation=DirectPatch(patch={"spec": {"replicas": 2}}),
    )


def _full_state() -> HealingState:
    state = initial_state("run-1", INCIDENT)
    evidence = Evidence(
        target=TARGET,
        items=[
            EvidenceItem(
                id="log:web-api:app:previous",
                kind=EvidenceKind.LOG,
                source="pod/web-api-1",
                text="java.lang.OutOfMemoryError",
                data={"lines": 3},
            )
        ],
        manifest={"spec": {"replicas": 2}},
        gaps=["metrics: prometheus not configured"],
    )
    action = ActionRecord(
        id="act-1",
        attempt=1,
        action="patch",
        target=str(TARGET),
        who="alice",
        what="raise memory limit",
        why="OOMKilled at 128Mi",
        diff="spec...memory: 128Mi -> 512Mi",
        dry_run={"ok": True, "detail": "server dry-run accepted"},
        result={"status": "ok", "detail": "patched"},
        at="2026-03-01T12:01:00+00:00",
    )
    state.update(
        evidence=[to_data(evidence)],
        diagnoses=[candidate(_diagnosis(0.7), "rules", 1), candidate(_diagnosis(0.9), "llm", 1)],
        reasoner_error=None,
        audit={
            "suspect_commit": {
                "sha": "abc1234",
                "message": "lower memory",
                "author": "dev",
                "url": "u",
                "changed_fields": ["resources.limits.memory"],
            },
            "policy": {"verdict": "allow", "action": "patch", "reasons": ["action allow-listed"]},
            "notes": [],
        },
        open_pr_for_fingerprint="https://example/pr/1",
        decision={
            "route": "ask",
            "rationale": "ask: ...",
            "inputs": {"mode": "approve", "confidence": 0.9},
            "attempt": 1,
            "decided_at": "2026-03-01T12:00:00+00:00",
        },
        approval={
            "approval_id": "a1",
            "status": "approved",
            "by": "alice",
            "comment": "",
            "answered_at": "2026-03-01T12:00:30+00:00",
            "expires_at": "2026-03-01T13:00:00+00:00",
            "request": {"run_id": "run-1"},
        },
        actions=[action],
        verifications=[
            VerificationRecord(
                attempt=1, healthy=True, detail="3/3 ready", checked_at="2026-03-01T12:03:00+00:00"
            )
        ],
        trace_event_ids=["ev-1", "ev-2"],
    )
    return state


def _assert_json_native(value: Any, path: str = "state") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{path}: non-string key {key!r}"
            _assert_json_native(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _assert_json_native(item, f"{path}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{path}: {type(value).__name__}"


def test_initial_state() -> None:
    state = initial_state("run-1", INCIDENT)
    assert state["attempt"] == 1 and state["evidence"] == [] and state["actions"] == []
    assert state["incident"]["fingerprint"] == "3f2a9c0d1e2b4a5c"
    assert state["incident"]["started_at"] == "2026-03-01T11:58:00Z"
    assert incident_of(state) == INCIDENT
    with pytest.raises(ValueError, match="run_id"):
        initial_state("", INCIDENT)


def test_every_value_is_json_native() -> None:
    _assert_json_native(_full_state())


def test_the_json_native_check_catches_models() -> None:
    with pytest.raises(AssertionError, match="incident: Incident"):
        _assert_json_native({"incident": INCIDENT})


def test_round_trip_through_jsonplus_serializer_in_strict_mode() -> None:
    state = _full_state()
    # Strict: only LangGraph's built-in safe types may be revived. JSON-native state needs no allowlist.
    serde = JsonPlusSerializer(allowed_msgpack_modules=None)
    assert serde.loads_typed(serde.dumps_typed(state)) == state
    assert JsonPlusSerializer().loads_typed(JsonPlusSerializer().dumps_typed(state)) == state
    assert json.loads(json.dumps(state)) == state


def test_accessors_read_typed_views() -> None:
    state = _full_state()
    evidence = latest_evidence(state)
    assert evidence is not None and evidence.items[0].kind is EvidenceKind.LOG
    assert [d.confidence for d in diagnoses_for(state)] == [0.7, 0.9]
    best = best_diagnosis(state)
    assert best is not None and best.confidence == 0.9 and best.explanation.startswith("ünïcode")
    assert best.remediation is not None and best.remediation.action is ActionType.PATCH


def test_best_diagnosis_looks_at_the_current_attempt_and_prefers_the_later_on_ties() -> None:
    state = initial_state("run-1", INCIDENT)
    assert best_diagnosis(state) is None and latest_evidence(state) is None
    state["diagnoses"] = [
        candidate(_diagnosis(0.99, RootCause.BAD_IMAGE), "rules", 1),
        candidate(_diagnosis(0.6, RootCause.OOM), "rules", 2),
        candidate(_diagnosis(0.6, RootCause.MISSING_ENV), "llm", 2),
    ]
    state["attempt"] = 2
    assert current_attempt(state) == 2
    best = best_diagnosis(state)
    assert best is not None and best.category is RootCause.MISSING_ENV
    assert [d.category for d in diagnoses_for(state, 1)] == [RootCause.BAD_IMAGE]


def test_a_follow_moves_the_subject_and_scopes_the_diagnoses_to_it() -> None:
    postgres = WorkloadRef(namespace="shop", name="postgres")
    blame = _diagnosis(0.9, RootCause.DEPENDENCY_DOWN).model_copy(
        update={"faulty_resource": "Deployment shop/postgres", "remediation": None}
    )
    state = initial_state("run-1", INCIDENT)
    state["diagnoses"] = [candidate(blame, "rules", 1, TARGET)]
    assert subject_of(state) == TARGET and visited_of(state) == [TARGET]
    assert subject_incident(state) == INCIDENT
    assert incident_diagnosis(state) == blame

    state["follows"] = [follow_record(TARGET, postgres, blame)]
    assert subject_of(state) == postgres and visited_of(state) == [TARGET, postgres]
    moved = subject_incident(state)
    assert moved.target == postgres
    assert (moved.id, moved.fingerprint, moved.reason) == (INCIDENT.id, INCIDENT.fingerprint, INCIDENT.reason)
    # web-api's diagnosis is not postgres's: until postgres is diagnosed there is nothing to act on
    assert best_diagnosis(state) is None
    own = _diagnosis(0.5, RootCause.SCALED_TO_ZERO)
    state["diagnoses"] = [*state["diagnoses"], candidate(own, "rules", 1, postgres)]
    assert best_diagnosis(state) == own, "the less confident candidate wins: it is the subject's"
    assert incident_diagnosis(state) == blame, "the incident's own diagnosis is the one that blamed postgres"


def test_candidates_without_a_subject_are_the_incidents() -> None:
    # states written before candidates named their subject still read back
    state = initial_state("run-1", INCIDENT)
    state["diagnoses"] = [candidate(_diagnosis(0.7), "rules", 1)]
    assert "subject" not in state["diagnoses"][0]
    assert [d.confidence for d in diagnoses_for(state)] == [0.7]


def test_incident_of_without_an_incident() -> None:
    with pytest.raises(KeyError, match="no incident"):
        incident_of({})


def test_reducers_accumulate_lists_and_overwrite_the_rest() -> None:
    def first(_: HealingState) -> dict[str, Any]:
        return {
            "trace_event_ids": ["a"],
            "diagnoses": [candidate(_diagnosis(0.5), "rules", 1)],
            "decision": {"route": "escalate", "rationale": "x", "inputs": {}, "attempt": 1, "decided_at": ""},
            "attempt": 1,
        }

    def second(_: HealingState) -> dict[str, Any]:
        return {
            "trace_event_ids": ["b"],
            "diagnoses": [candidate(_diagnosis(0.8), "llm", 2)],
            "decision": {"route": "act", "rationale": "y", "inputs": {}, "attempt": 2, "decided_at": ""},
            "attempt": 2,
            "verifications": [{"attempt": 2, "healthy": False, "detail": "", "checked_at": ""}],
        }

    builder = StateGraph(HealingState)
    builder.add_node("first", first)
    builder.add_node("second", second)
    builder.add_edge(START, "first")
    builder.add_edge("first", "second")
    builder.add_edge("second", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "reducers"}}
    result = graph.invoke(initial_state("run-1", INCIDENT), config)
    assert result["trace_event_ids"] == ["a", "b"]
    assert [c["attempt"] for c in result["diagnoses"]] == [1, 2]
    assert result["decision"]["route"] == "act" and result["attempt"] == 2
    assert len(result["verifications"]) == 1
    assert graph.get_state(config).values == result  # what the checkpointer kept
