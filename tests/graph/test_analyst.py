"""The analyst node: evidence in the state, a diagnosis, reasoner failures counted, trace emitted."""

from __future__ import annotations

from agent.domain import Evidence, Incident, RootCause, WorkloadRef
from agent.reasoners.base import ReasonerError, ReasonerErrorKind, ReasonerResult
from agent.reasoners.rules import RulesReasoner
from agent.trace import TraceEvent, TraceEventType
from graph.breaker import REASONER_KEY, BreakerPolicy, CircuitBreaker, InMemoryBreakerStore
from graph.context import Breakers, HealingContext
from graph.nodes.analyst import analyst
from graph.state import initial_state
from tests.agent import evidence_samples as samples
from tests.graph.contexts import bound, healing_context
from tests.graph.contexts import breaker as target_breaker
from tools.result import ToolCallEvent, ToolStatus, TraceSink


class FailingReasoner:
    name = "llm"

    def __init__(self) -> None:
        self.calls = 0

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        self.calls += 1
        raise ReasonerError(ReasonerErrorKind.TIMEOUT, "the model did not answer in 60 s")


def _gather(evidence: Evidence):
    def gather(target: WorkloadRef, sink: TraceSink) -> Evidence:
        sink(
            ToolCallEvent(
                "kubernetes.workload_status", {"name": target.name}, ToolStatus.OK, 3.0, "2/2 ready"
            )
        )
        return evidence

    return gather


def _breaker(limit: int = 2) -> CircuitBreaker:
    return CircuitBreaker(
        InMemoryBreakerStore(), BreakerPolicy(limit, 600, 300, reset_on_success=True), lambda: 1000.0
    )


def _context(gather, reasoner, breaker: CircuitBreaker, emit) -> HealingContext:
    return healing_context(
        reasoner=reasoner, gather=gather, breakers=Breakers(target_breaker(), breaker), emit=emit
    )


def _run(node, incident: Incident | None = None, **state):
    start = initial_state("run-1", incident or samples.incident("OOMKilled"))
    start.update(state)
    return node(start)


def test_diagnoses_from_gathered_evidence_and_traces_every_step() -> None:
    events: list[TraceEvent] = []
    breaker = _breaker()
    node = bound(analyst, _context(_gather(samples.oom()), RulesReasoner(), breaker, events.append))
    update = _run(node)
    [candidate] = update["diagnoses"]
    assert candidate["attempt"] == 1 and candidate["reasoner"] == "rules"
    assert candidate["diagnosis"]["category"] == RootCause.OOM.value
    assert update["reasoner_error"] is None and len(update["evidence"]) == 1
    types = [e.type for e in events]
    assert types[0] is TraceEventType.NODE_START and types[-1] is TraceEventType.NODE_END
    assert TraceEventType.TOOL_CALL in types
    assert "oom" in events[-1].summary
    assert all(e.run_id == "run-1" and e.node == "analyst" for e in events)


def test_reasoner_failure_is_recorded_counted_and_then_short_circuited() -> None:
    events: list[TraceEvent] = []
    breaker = _breaker(limit=2)
    failing = FailingReasoner()
    node = bound(analyst, _context(_gather(samples.oom()), failing, breaker, events.append))
    for _ in range(2):
        update = _run(node)
        assert "diagnoses" not in update and update["reasoner_error"].startswith("timeout")
    assert not breaker.allows(REASONER_KEY)
    update = _run(node)
    assert failing.calls == 2, "the open breaker must stop further reasoner calls"
    assert "breaker is open" in update["reasoner_error"]
    assert update["evidence"], "evidence is still gathered and kept"
    assert any(e.type is TraceEventType.ERROR for e in events)


class BuggyReasoner:
    name = "rules"

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        raise TypeError("'dict' object is not callable")


def test_a_reasoner_bug_is_a_recorded_failure_not_a_dead_run() -> None:
    events: list[TraceEvent] = []
    breaker = _breaker(limit=1)
    node = bound(analyst, _context(_gather(samples.oom()), BuggyReasoner(), breaker, events.append))
    update = _run(node)
    assert "diagnoses" not in update and update["evidence"]
    assert update["reasoner_error"] == "internal: the rules reasoner raised TypeError"
    assert not breaker.allows(REASONER_KEY), "counted like any reasoner failure"
    [error] = [e for e in events if e.type is TraceEventType.ERROR]
    assert "TypeError" in error.summary and "not callable" in error.summary


def test_second_attempt_sees_what_verification_saw() -> None:
    seen: list[Evidence] = []

    class Spy(RulesReasoner):
        def diagnose(self, incident, evidence):
            seen.append(evidence)
            return super().diagnose(incident, evidence)

    node = bound(analyst, _context(_gather(samples.oom()), Spy(), _breaker(), lambda e: None))
    verification = {"attempt": 1, "healthy": False, "detail": "2 restarts since the fix", "checked_at": "x"}
    update = _run(node, attempt=2, verifications=[verification])
    assert update["diagnoses"][0]["attempt"] == 2
    assert "verification:1" in seen[0].ids()
