"""The analyst node: gather evidence through tools/, ask the reasoner for a diagnosis.

A plain function of state reading its collaborators from the run's context. Reasoner failures never crash a
run: they are recorded (state `reasoner_error`, a trace event) and counted by the global
reasoner breaker, which, once open, stops the analyst from calling the reasoner at all. That
breaker sees only failures of the reasoner as a whole: the hybrid reasoner answers with its rules
when its LLM fails, and counts LLM failures on the separate LLM breaker (`graph.breaker.LLM_KEY`),
so an LLM outage degrades hybrid to rules-only instead of silencing it. An LLM's turns and tool
calls are streamed to the run's trace as they happen. On a later attempt, what verification saw
after the earlier fix is part of the evidence.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.domain import Evidence, EvidenceItem, EvidenceKind, Incident
from agent.injection import scan_evidence
from agent.reasoners.base import ReasonerError, TraceRecord, streaming
from graph.breaker import REASONER_KEY
from graph.context import HealingContext
from graph.evidence_timeline import TIMELINE_NOTE, evidence_timeline
from graph.memory.recall import SIMILAR_NOTE, headline, memory_item, recall
from graph.state import HealingState, candidate, current_attempt, subject_incident, to_data
from graph.tracing import USAGE_NOTE, NodeTrace
from tools.evidence.item_data import OtherStatusData

NODE = "analyst"
__all__ = ["NODE", "USAGE_NOTE", "analyst"]  # USAGE_NOTE: readers of the trace import it from here


def analyst(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The analyst node: state in, an update (evidence, diagnoses, reasoner_error) out."""
    ctx = runtime.context
    incident = subject_incident(state)
    attempt = current_attempt(state)
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=attempt, target=str(incident.target))

    evidence = _with_verifications(ctx.gather(incident.target, tracer.sink), state)
    evidence = _with_memory(ctx, incident, evidence, state["run_id"], tracer)
    entries = evidence_timeline(evidence)
    if entries:
        tracer.note(f"{TIMELINE_NOTE}: {len(entries)} entries", kind=TIMELINE_NOTE, entries=entries)
    if evidence.gaps:
        tracer.note(f"{len(evidence.gaps)} evidence gap(s)", gaps=evidence.gaps)
    _flag_injection(tracer, evidence)
    update: dict[str, Any] = {"evidence": [to_data(evidence)]}

    breaker = ctx.breakers.reasoner
    if not breaker.allows(REASONER_KEY):
        reason = "the reasoner breaker is open after repeated failures; not asking the reasoner"
        tracer.error(reason)
        update["reasoner_error"] = reason
        tracer.end(_summary(update))
        return update
    # The model's turns and tool calls reach the run's trace as they happen; the rest at the end.
    with streaming(tracer.reasoner_live) as streamed:
        try:
            result = ctx.reasoner.diagnose(incident, evidence)
        except ReasonerError as exc:
            breaker.record_event(REASONER_KEY)
            tracer.reasoner(_unsent(exc.trace, streamed))
            tracer.usage(exc.usage, "failed")
            tracer.error(f"reasoner failed ({exc.kind.value}): {exc}")
            update["reasoner_error"] = f"{exc.kind.value}: {exc}"
        except Exception as exc:
            # A bug in a reasoner (a rule tripping over odd evidence) is still a failed
            # diagnosis, not a dead run: recorded with its traceback, counted, escalated.
            breaker.record_event(REASONER_KEY)
            tracer.error(f"reasoner raised {type(exc).__name__}: {exc}", exc)
            update["reasoner_error"] = (
                f"internal: the {ctx.reasoner.name} reasoner raised {type(exc).__name__}"
            )
        else:
            breaker.record_success(REASONER_KEY)
            tracer.reasoner(_unsent(result.trace, streamed))
            tracer.usage(result.usage, result.reasoner, decided_by=result.side())
            update["diagnoses"] = [candidate(result.diagnosis, result.reasoner, attempt, incident.target)]
            update["reasoner_error"] = None

    tracer.end(_summary(update))
    return update


INJECTION_NOTE = "suspected prompt injection"


def _flag_injection(tracer: NodeTrace, evidence: Evidence) -> None:
    """One trace note per piece of evidence that reads like orders to a model: the attempt is on
    record (who wrote what, where), while the reasoner still sees it only as fenced data and the
    policy still judges whatever it proposes."""
    for found in scan_evidence(evidence):
        tracer.note(f"{INJECTION_NOTE} in {found.kind} {found.source}", injection=found.to_data())


def _unsent(records: list[TraceRecord], streamed: list[TraceRecord]) -> list[TraceRecord]:
    """The records not already streamed (by identity: the reasoner hands back the same objects)."""
    sent = {id(r) for r in streamed}
    return [r for r in records if id(r) not in sent]


def _with_verifications(evidence: Evidence, state: HealingState) -> Evidence:
    """On a later attempt, what verification saw after each earlier fix is evidence too."""
    items = [
        EvidenceItem(
            id=f"verification:{v['attempt']}",
            kind=EvidenceKind.STATUS,
            source=f"verification of attempt {v['attempt']}",
            text=f"after attempt {v['attempt']}: "
            f"{'healthy' if v['healthy'] else 'still unhealthy'}: {v['detail']}",
            data=OtherStatusData(
                object_kind="Verification", attempt=v["attempt"], healthy=v["healthy"]
            ).dump(),
        )
        for v in state.get("verifications") or []
    ]
    return evidence.model_copy(update={"items": [*evidence.items, *items]}) if items else evidence


def _with_memory(
    ctx: HealingContext, incident: Incident, evidence: Evidence, run_id: str, tracer: NodeTrace
) -> Evidence:
    """Similar past incidents, when memory is wired, become MEMORY evidence and a trace note."""
    if ctx.memory is None:
        return evidence
    try:
        similar = recall(ctx.memory, incident, evidence, run_id)
    except Exception as exc:  # memory is a help, never a reason to fail a diagnosis
        tracer.note(f"incident memory unavailable: {type(exc).__name__}: {exc}")
        return evidence
    tracer.note(headline(similar), kind=SIMILAR_NOTE, similar=[s.to_data() for s in similar])
    if not similar:
        return evidence
    return evidence.model_copy(update={"items": [*evidence.items, *(memory_item(s) for s in similar)]})


def _summary(update: dict[str, Any]) -> str:
    if update.get("diagnoses"):
        d = update["diagnoses"][-1]["diagnosis"]
        return f"diagnosis: {d['category']} at {d['confidence']:.2f} ({d['faulty_resource']})"
    return f"no diagnosis: {update.get('reasoner_error')}"
