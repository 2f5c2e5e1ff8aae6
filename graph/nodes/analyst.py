"""The analyst node: gather evidence through tools/, ask the reasoner for a diagnosis.

A plain function of state reading its collaborators from the run's context. Reasoner failures never crash a
run: they are recorded (state `reasoner_error`, a trace event) and counted by the global
reasoner breaker, which, once open, stops the analyst from calling the reasoner at all.
On a later attempt, what verification saw after the earlier fix is part of the evidence.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.domain import Evidence, EvidenceItem, EvidenceKind, Usage
from agent.injection import scan_evidence
from agent.reasoners.base import ReasonerError
from graph.breaker import REASONER_KEY
from graph.context import HealingContext
from graph.state import HealingState, candidate, current_attempt, subject_incident, to_data
from graph.tracing import NodeTrace
from tools.evidence.item_data import OtherStatusData

NODE = "analyst"


def analyst(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The analyst node: state in, an update (evidence, diagnoses, reasoner_error) out."""
    ctx = runtime.context
    incident = subject_incident(state)
    attempt = current_attempt(state)
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=attempt, target=str(incident.target))

    evidence = _with_verifications(ctx.gather(incident.target, tracer.sink), state)
    if evidence.gaps:
        tracer.note(f"{len(evidence.gaps)} evidence gap(s)", gaps=evidence.gaps)
    _flag_injection(tracer, evidence)
    update: dict[str, Any] = {"evidence": [to_data(evidence)]}

    breaker = ctx.breakers.reasoner
    if not breaker.allows(REASONER_KEY):
        reason = "the reasoner breaker is open after repeated failures; not asking the reasoner"
        tracer.error(reason)
        update["reasoner_error"] = reason
    else:
        try:
            result = ctx.reasoner.diagnose(incident, evidence)
        except ReasonerError as exc:
            breaker.record_event(REASONER_KEY)
            tracer.reasoner(exc.trace)
            _usage(tracer, exc.usage, "failed")
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
            tracer.reasoner(result.trace)
            _usage(tracer, result.usage, result.reasoner)
            update["diagnoses"] = [candidate(result.diagnosis, result.reasoner, attempt, incident.target)]
            update["reasoner_error"] = None

    tracer.end(_summary(update))
    return update


USAGE_NOTE = "reasoner usage"
INJECTION_NOTE = "suspected prompt injection"


def _flag_injection(tracer: NodeTrace, evidence: Evidence) -> None:
    """One trace note per piece of evidence that reads like orders to a model: the attempt is on
    record (who wrote what, where), while the reasoner still sees it only as fenced data and the
    policy still judges whatever it proposes."""
    for found in scan_evidence(evidence):
        tracer.note(f"{INJECTION_NOTE} in {found.kind} {found.source}", injection=found.to_data())


def _usage(tracer: NodeTrace, usage: Usage, reasoner: str) -> None:
    """Record what the reasoner's model calls cost (metrics and evals read it from the trace)."""
    if usage.model_calls:
        tracer.note(USAGE_NOTE, reasoner=reasoner, usage=usage.model_dump())


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


def _summary(update: dict[str, Any]) -> str:
    if update.get("diagnoses"):
        d = update["diagnoses"][-1]["diagnosis"]
        return f"diagnosis: {d['category']} at {d['confidence']:.2f} ({d['faulty_resource']})"
    return f"no diagnosis: {update.get('reasoner_error')}"
