"""Learned confidence end to end: outcomes remembered in the run store change the decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.config import Mode
from agent.domain import Diagnosis, DirectPatch, Incident, RootCause, Trigger, WorkloadRef
from graph.context import DecisionConfig
from graph.memory import IncidentSignature, MemoryOutcome, fix_kind_of
from graph.nodes.decision import decision
from graph.state import candidate, initial_state
from server.memory import StoreMemory
from server.runstore import RunStore
from server.runstore.memory_models import MemoryEntry
from tests.graph.contexts import call, healing_context

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WEB = WorkloadRef(namespace="shop", name="web-api")
FIX = DirectPatch(patch={"spec": {"template": {"spec": {"containers": [
    {"name": "app", "resources": {"limits": {"memory": "1Gi"}}}]}}}})  # fmt: skip


def _state():
    incident = Incident(id="i1", fingerprint="fp", target=WEB, trigger=Trigger.WATCHER, reason="OOMKilled")
    state = initial_state("now", incident)
    diagnosis = Diagnosis(
        category=RootCause.OOM,
        explanation="OOMKilled at its limit",
        faulty_resource="Deployment shop/web-api",
        confidence=0.92,
        remediation=FIX,
    )
    state["diagnoses"] = [candidate(diagnosis, "rules", 1)]
    return state


def _remember(store: RunStore, run_id: str, outcome: MemoryOutcome, at: datetime) -> None:
    kind = fix_kind_of(FIX)
    signature = IncidentSignature("Deployment", ("oomkilled",), category="oom", fix_kind=kind)
    store.remember(MemoryEntry(run_id=run_id, recorded_at=at, target=WEB, category="oom", fix_kind=kind,
                               outcome=outcome, signature=signature.to_data()))  # fmt: skip


def _decide(store: RunStore) -> dict:
    context = healing_context(decision=DecisionConfig(mode=Mode.AUTONOMOUS), memory=StoreMemory(store))
    return call(decision, _state(), context)["decision"]


def test_a_fix_kind_that_keeps_failing_here_asks_a_human_instead_of_acting(store: RunStore) -> None:
    first = _decide(store)
    assert first["route"] == "act"
    assert first["inputs"]["learned"]["act_threshold"] == 0.8  # no record yet: the configured threshold
    _remember(store, "r1", MemoryOutcome.ROLLED_BACK, T0)
    assert _decide(store)["route"] == "act"  # one failure is not a pattern (0.92 clears the raised bar)
    _remember(store, "r2", MemoryOutcome.REJECTED, T0 + timedelta(hours=1))  # a human said no
    second = _decide(store)
    assert second["route"] == "ask"
    assert "learned confidence" in second["rationale"] and "rejected by a human" in second["rationale"]
    assert second["inputs"]["learned"]["ask_instead"] is True
    _remember(store, "r3", MemoryOutcome.HEALED, T0 + timedelta(hours=2))
    assert _decide(store)["route"] == "act"  # a success here ends the streak
