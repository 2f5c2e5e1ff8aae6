"""The approval node in a tiny real StateGraph with InMemorySaver: interrupt, inspect, resume."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from agent.config import Mode
from agent.domain import (
    Diagnosis,
    DirectPatch,
    Evidence,
    Incident,
    Restart,
    Rollback,
    RootCause,
    Scale,
    Trigger,
    WorkloadRef,
)
from graph.approval_request import (
    ApprovalRequest,
    ApprovalResponse,
    approval_id_for,
    build_approval_request,
    describe_change,
    describe_patch,
)
from graph.context import DecisionConfig
from graph.edges import route_after_approval, route_after_decision
from graph.nodes.approval import approval
from graph.nodes.decision import decision
from graph.state import ActionRecord, HealingState, candidate, follow_record, initial_state, to_data
from tests.clocks import ManualClock
from tests.graph.contexts import bound, healing_context
from tests.manifests import app_patch, with_containers

TARGET = WorkloadRef(namespace="shop", name="web-api")
DECIDED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MANIFEST = with_containers(
    {"name": "app", "image": "reg.io/shop/web:2", "resources": {"limits": {"memory": "128Mi"}}}, replicas=2
)
PATCH = app_patch(resources={"limits": {"memory": "512Mi"}})
_threads = itertools.count()


def _state() -> HealingState:
    incident = Incident(id="i1", fingerprint="fp", target=TARGET, trigger=Trigger.WATCHER, reason="OOMKilled")
    state = initial_state("run-7", incident)
    diagnosis = Diagnosis(
        category=RootCause.OOM,
        explanation="container app is OOMKilled at 128Mi",
        faulty_resource="Deployment shop/web-api",
        confidence=0.9,
        remediation=DirectPatch(patch=PATCH, rationale="raise the limit"),
    )
    state["diagnoses"] = [candidate(diagnosis, "rules", 1)]
    state["evidence"] = [to_data(Evidence(target=TARGET, manifest=MANIFEST))]
    return state


def _act(state: HealingState) -> dict[str, Any]:
    approval = state["approval"]
    record = ActionRecord(
        id="a1",
        attempt=1,
        action="patch",
        target=str(TARGET),
        who=approval["by"],
        what="patch",
        why="approved",
        diff="",
        dry_run=None,
        result={"status": "ok", "detail": ""},
        at="",
    )
    return {"actions": [record]}


def _decide() -> Any:
    """The decision node in approve mode, deciding at DECIDED."""
    return bound(decision, healing_context(decision=DecisionConfig(mode=Mode.APPROVE), clock=lambda: DECIDED))


def _approval(clock: ManualClock) -> Any:
    """The approval node answering on `clock`."""
    return bound(approval, healing_context(approval_ttl=timedelta(hours=1), clock=clock))


def _graph(approval_clock: ManualClock) -> Any:
    builder = StateGraph(HealingState)
    builder.add_node("decide", _decide())
    builder.add_node("approval", _approval(approval_clock))
    builder.add_node("act", _act)
    builder.add_node("report", lambda s: {"trace_event_ids": ["reported"]})
    builder.add_node("escalate", lambda s: {"trace_event_ids": ["escalated"]})
    builder.add_edge(START, "decide")
    builder.add_conditional_edges(
        "decide",
        route_after_decision,
        {"ask": "approval", "act": "act", "report": "report", "escalate": "escalate"},
    )
    builder.add_conditional_edges("approval", route_after_approval, ["act", "report", "escalate"])
    for node in ("act", "report", "escalate"):
        builder.add_edge(node, END)
    return builder.compile(checkpointer=InMemorySaver())


def _start(clock: ManualClock | None = None) -> tuple[Any, dict[str, Any], dict[str, Any], ManualClock]:
    clock = clock or ManualClock(DECIDED + timedelta(minutes=5))
    graph = _graph(clock)
    config = {"configurable": {"thread_id": f"t{next(_threads)}"}}
    result = graph.invoke(_state(), config)
    return graph, config, result, clock


def test_interrupt_surfaces_a_typed_payload() -> None:
    graph, config, result, _ = _start()
    (pending,) = result["__interrupt__"]
    request = ApprovalRequest.model_validate(pending.value)
    assert request.run_id == "run-7" and request.target == "shop/deployment/web-api"
    assert request.diagnosis_summary == "oom: container app is OOMKilled at 128Mi"
    assert request.proposed_action == "patch" and request.confidence == 0.9
    assert (
        request.patch_diff == 'spec.template.spec.containers[app].resources.limits.memory: "128Mi" -> "512Mi"'
    )
    assert request.policy_verdict is not None and request.policy_verdict["verdict"] == "allow"
    assert request.expires_at == DECIDED + timedelta(hours=1)
    assert request.approval_id == approval_id_for("run-7", 1, DECIDED.isoformat())
    assert "approve mode" in request.rationale
    assert pending.response_schema == ApprovalResponse.model_json_schema()
    assert graph.get_state(config).next == ("approval",)
    assert not result["actions"]


def test_resume_approve_acts_as_the_approver() -> None:
    graph, config, _, _ = _start()
    result = graph.invoke(Command(resume={"approved": True, "by": "alice", "comment": "go"}), config)
    assert result["approval"]["status"] == "approved"
    assert result["approval"]["by"] == "alice" and result["approval"]["comment"] == "go"
    assert result["approval"]["request"]["run_id"] == "run-7"
    assert [a["who"] for a in result["actions"]] == ["alice"]
    assert graph.get_state(config).next == ()


def test_resume_reject_reports_and_changes_nothing() -> None:
    graph, config, _, _ = _start()
    result = graph.invoke(Command(resume={"approved": False, "by": "bob", "comment": "not now"}), config)
    assert result["approval"]["status"] == "rejected"
    assert result["actions"] == [] and result["trace_event_ids"] == ["reported"]


def test_late_approval_escalates() -> None:
    graph, config, _, clock = _start()
    clock.now = DECIDED + timedelta(hours=1, seconds=1)
    result = graph.invoke(Command(resume={"approved": True, "by": "alice"}), config)
    assert result["approval"]["status"] == "expired"
    assert result["actions"] == [] and result["trace_event_ids"] == ["escalated"]


def test_timed_out_resume_escalates() -> None:
    graph, config, _, _ = _start()
    resume = {"approved": False, "by": "paramedic", "comment": "nobody answered", "timed_out": True}
    result = graph.invoke(Command(resume=resume), config)
    assert result["approval"]["status"] == "expired" and result["approval"]["comment"] == "nobody answered"
    assert result["trace_event_ids"] == ["escalated"]


def test_resuming_twice_is_idempotent() -> None:
    graph, config, _, _ = _start()
    first = graph.invoke(Command(resume={"approved": True, "by": "alice"}), config)
    second = graph.invoke(Command(resume={"approved": False, "by": "mallory"}), config)
    assert second["approval"] == first["approval"]
    assert len(second["actions"]) == 1 and second["actions"][0]["who"] == "alice"


@pytest.mark.parametrize(
    ("resume", "problem"),
    [
        ({"approved": "yes", "by": "alice"}, "approved"),
        ({"approved": True}, "by"),
        ({"approved": True, "by": ""}, "by"),
        ("approve", "answer"),
        (["approved"], "answer"),
    ],
)
def test_malformed_answers_escalate(resume: Any, problem: str) -> None:
    graph, config, _, _ = _start()
    result = graph.invoke(Command(resume=resume), config)
    assert result["approval"]["status"] == "invalid"
    assert (
        result["approval"]["comment"].startswith("malformed answer: ")
        and problem in result["approval"]["comment"]
    )
    assert result["actions"] == [] and result["trace_event_ids"] == ["escalated"]


def test_answer_for_another_request_escalates() -> None:
    graph, config, _, _ = _start()
    result = graph.invoke(
        Command(resume={"approved": True, "by": "alice", "approval_id": "deadbeef"}), config
    )
    assert result["approval"]["status"] == "invalid" and "deadbeef" in result["approval"]["comment"]
    assert result["actions"] == []


def test_matching_approval_id_is_accepted() -> None:
    graph, config, result, _ = _start()
    approval_id = result["__interrupt__"][0].value["approval_id"]
    result = graph.invoke(
        Command(resume={"approved": True, "by": "alice", "approval_id": approval_id}), config
    )
    assert result["approval"]["status"] == "approved"


def test_node_does_not_ask_again_once_answered() -> None:
    state = _state()
    state.update(_decide()(state))  # type: ignore[typeddict-item]
    request = build_approval_request(state, timedelta(hours=1))
    state["approval"] = {"approval_id": request.approval_id, "status": "approved", "by": "alice"}
    # Outside a graph interrupt() would raise: returning {} proves it was never called.
    assert _approval(ManualClock(DECIDED))(state) == {}


def test_node_without_an_ask_decision_escalates() -> None:
    update = _approval(ManualClock(DECIDED))(_state())
    assert update["approval"]["status"] == "invalid"
    assert "no decision asking for approval" in update["approval"]["comment"]
    assert route_after_approval(update) == "escalate"  # type: ignore[arg-type]


def test_route_after_approval() -> None:
    assert route_after_approval({}) == "escalate"
    assert route_after_approval({"approval": {"status": "approved"}}) == "act"
    assert route_after_approval({"approval": {"status": "rejected"}}) == "report"
    assert route_after_approval({"approval": {"status": "expired"}}) == "escalate"


def test_bad_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="ttl"):
        healing_context(approval_ttl=timedelta(0))


def test_describe_patch() -> None:
    patch = {
        "spec": {
            "replicas": 3,
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "env": [{"name": "MODE", "value": "safe"}],
                            "resources": {"requests": None},
                        },
                        {"name": "sidecar"},
                    ]
                }
            },
        }
    }
    assert describe_patch(MANIFEST, patch).splitlines() == [
        "spec.replicas: 2 -> 3",
        'spec.template.spec.containers[app].env[MODE].value: (absent) -> "safe"',
        "spec.template.spec.containers[app].resources.requests: (absent) -> (deleted)",
        "spec.template.spec.containers[sidecar]: (added)",
    ]
    assert describe_patch(None, {"spec": {"replicas": 1}}) == "spec.replicas: (absent) -> 1"


def test_describe_change_without_a_patch() -> None:
    scale = Scale(replicas=4)
    assert describe_change(scale, MANIFEST) == "spec.replicas: 2 -> 4"
    rollback = Rollback(revision=3)
    assert describe_change(rollback, MANIFEST) == "(rollback: revision=3; no manifest patch)"
    assert describe_change(Restart(), None) == "(restart; no manifest patch)"


def test_after_a_follow_the_human_is_asked_about_the_dependency() -> None:
    # web-api blamed postgres; the proposal being approved changes postgres, and the payload says so
    postgres = WorkloadRef(namespace="shop", name="postgres")
    state = _state()
    blame = Diagnosis.model_validate(state["diagnoses"][0]["diagnosis"])
    state["follows"] = [follow_record(TARGET, postgres, blame)]
    state["diagnoses"] = [*state["diagnoses"], candidate(blame, "rules", 1, postgres)]
    state.update(_decide()(state))  # type: ignore[typeddict-item]
    assert state["decision"]["route"] == "ask"
    assert build_approval_request(state, timedelta(hours=1)).target == "shop/deployment/postgres"


def test_the_decision_and_the_answer_are_trace_events_and_the_request_is_traced_once() -> None:
    events: list[Any] = []
    clock = ManualClock(DECIDED + timedelta(minutes=5))
    builder = StateGraph(HealingState)
    config_ = DecisionConfig(mode=Mode.APPROVE)
    decide = bound(decision, healing_context(decision=config_, clock=lambda: DECIDED, emit=events.append))
    builder.add_node("decide", decide)
    builder.add_node("approval", bound(approval, healing_context(clock=clock, emit=events.append)))
    builder.add_node("done", lambda s: {})
    builder.add_edge(START, "decide")
    builder.add_edge("decide", "approval")
    builder.add_edge("approval", "done")
    builder.add_edge("done", END)
    graph = builder.compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": f"t{next(_threads)}"}}
    graph.invoke(_state(), config)
    graph.invoke(Command(resume={"approved": False, "by": "bob", "comment": "not now"}), config)
    kinds = [(e.type.value, e.node, e.payload.get("status") or e.payload.get("route")) for e in events]
    assert kinds == [
        ("decision", "decision", "ask"),
        ("approval", "decision", "requested"),
        ("approval", "approval", "rejected"),
    ]
    requested, answered = events[1], events[2]
    assert requested.payload["details"]["proposed_action"] == "patch"
    assert requested.payload["details"]["approval_id"] == answered.payload["details"]["approval_id"]
    assert answered.payload["details"]["by"] == "bob" and answered.summary == "approval rejected by bob"
    assert "approve mode" in events[0].payload["rationale"]
