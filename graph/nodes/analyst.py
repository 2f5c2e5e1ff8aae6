"""The analyst node: gather evidence through tools/, ask the reasoner for a diagnosis.

A plain function of state built from injected collaborators. Reasoner failures never crash a
run: they are recorded (state `reasoner_error`, a trace event) and counted by the global
reasoner breaker, which, once open, stops the analyst from calling the reasoner at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent import trace
from agent.domain import Evidence, EvidenceItem, EvidenceKind, WorkloadRef
from agent.reasoners.base import Reasoner, ReasonerError
from agent.trace import TraceEvent
from graph.breaker import REASONER_KEY, CircuitBreaker
from graph.state import HealingState, candidate, current_attempt, incident_of, to_data
from tools.result import ToolCallEvent, TraceSink

NODE = "analyst"

Gather = Callable[[WorkloadRef, TraceSink], Evidence]
Emit = Callable[[TraceEvent], None]


@dataclass(frozen=True)
class AnalystDeps:
    """What the analyst needs: an evidence gatherer (bound to the cluster and Git), a reasoner,
    the global reasoner breaker and where trace events go (`agent.trace.emit` inside a graph)."""

    gather: Gather
    reasoner: Reasoner
    reasoner_breaker: CircuitBreaker
    emit: Emit = trace.emit


def make_analyst_node(deps: AnalystDeps) -> Callable[[HealingState], dict[str, Any]]:
    """The analyst as a node: state in, an update (evidence, diagnoses, reasoner_error) out."""

    def analyst(state: HealingState) -> dict[str, Any]:
        run_id = state["run_id"]
        incident = incident_of(state)
        attempt = current_attempt(state)
        started = time.monotonic()
        deps.emit(
            trace.node_start(run_id, NODE, payload={"attempt": attempt, "target": str(incident.target)})
        )

        def on_tool_call(call: ToolCallEvent) -> None:
            deps.emit(trace.tool_call(run_id, call, node=NODE))

        evidence = deps.gather(incident.target, on_tool_call)
        evidence = _with_verifications(evidence, state)
        update: dict[str, Any] = {"evidence": [to_data(evidence)]}

        if not deps.reasoner_breaker.allows(REASONER_KEY):
            reason = "the reasoner breaker is open after repeated failures; not asking the reasoner"
            deps.emit(trace.error(run_id, NODE, message=reason))
            update["reasoner_error"] = reason
        else:
            try:
                result = deps.reasoner.diagnose(incident, evidence)
            except ReasonerError as exc:
                deps.reasoner_breaker.record_event(REASONER_KEY)
                for record in exc.trace:
                    deps.emit(trace.from_reasoner_record(run_id, NODE, record))
                deps.emit(trace.error(run_id, NODE, message=f"reasoner failed ({exc.kind.value}): {exc}"))
                update["reasoner_error"] = f"{exc.kind.value}: {exc}"
            else:
                deps.reasoner_breaker.record_success(REASONER_KEY)
                for record in result.trace:
                    deps.emit(trace.from_reasoner_record(run_id, NODE, record))
                update["diagnoses"] = [candidate(result.diagnosis, result.reasoner, attempt)]
                update["reasoner_error"] = None

        summary = _summary(update)
        deps.emit(
            trace.node_end(run_id, NODE, summary=summary, duration_ms=(time.monotonic() - started) * 1000)
        )
        return update

    return analyst


def _with_verifications(evidence: Evidence, state: HealingState) -> Evidence:
    """On a second attempt, what verification saw after the first fix is evidence too."""
    items = [
        EvidenceItem(
            id=f"verification:{v['attempt']}",
            kind=EvidenceKind.STATUS,
            source=f"verification of attempt {v['attempt']}",
            text=f"after attempt {v['attempt']}: "
            f"{'healthy' if v['healthy'] else 'still unhealthy'}: {v['detail']}",
            data={"object_kind": "Verification", "attempt": v["attempt"], "healthy": v["healthy"]},
        )
        for v in state.get("verifications") or []
    ]
    return evidence.model_copy(update={"items": [*evidence.items, *items]}) if items else evidence


def _summary(update: dict[str, Any]) -> str:
    if update.get("diagnoses"):
        d = update["diagnoses"][-1]["diagnosis"]
        return f"diagnosis: {d['category']} at {d['confidence']:.2f} ({d['faulty_resource']})"
    return f"no diagnosis: {update.get('reasoner_error')}"
