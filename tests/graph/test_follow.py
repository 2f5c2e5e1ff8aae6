"""The follow node: records the hop to the dependency the decision chose, and changes nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from agent.domain import (
    Diagnosis,
    Incident,
    Notify,
    RootCause,
    Trigger,
    WorkloadRef,
)
from agent.trace import TraceEvent
from graph.context import HealingContext
from graph.nodes.follow import follow
from graph.state import HealingState, candidate, initial_state, subject_of, to_data
from tests.graph.contexts import bound, healing_context

WEB = WorkloadRef(namespace="shop", name="web-api")
POSTGRES = WorkloadRef(namespace="shop", name="postgres")
BLAME = Diagnosis(
    category=RootCause.DEPENDENCY_DOWN,
    explanation="web-api cannot reach postgres, which has no ready replicas",
    faulty_resource="Deployment shop/postgres",
    confidence=0.9,
    remediation=Notify(),
)


def make_context(emit=lambda event: None) -> HealingContext:
    def gather(target, sink):
        raise AssertionError("the follow node gathers nothing")

    return healing_context(gather=gather, emit=emit)


def _state(**extra: Any) -> HealingState:
    incident = Incident(id="i1", fingerprint="fp1", target=WEB, trigger=Trigger.ALERT, reason="5xx")
    state = initial_state("run-1", incident)
    state["diagnoses"] = [candidate(BLAME, "rules", 1, WEB)]
    state.update(extra)  # type: ignore[typeddict-item]
    return state


def test_the_hop_is_recorded_and_traced() -> None:
    events: list[TraceEvent] = []
    node = bound(follow, make_context(emit=events.append))
    state = _state(decision={"route": "follow", "rationale": "", "inputs": {"follow": to_data(POSTGRES)},
                             "attempt": 1, "decided_at": "2026-03-01T12:00:00+00:00"})  # fmt: skip
    update = node(state)
    assert list(update) == ["follows"], "the follow node writes nothing but the hop"
    [record] = update["follows"]
    assert record["source"] == to_data(WEB) and record["to"] == to_data(POSTGRES)
    assert record["attempt"] == 1
    assert Diagnosis.model_validate(record["diagnosis"]) == BLAME
    state.update(update)  # type: ignore[typeddict-item]
    assert subject_of(state) == POSTGRES
    assert [e.node for e in events] == ["follow", "follow"]
    assert "investigating shop/deployment/postgres next" in events[-1].summary


def test_without_a_decision_to_follow_it_refuses() -> None:
    node = bound(follow, make_context())
    with pytest.raises(ValueError, match="without a dependency"):
        node(_state())
