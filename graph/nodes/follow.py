"""The follow node: move the run's investigation to the dependency the decision chose to follow.

It changes nothing anywhere; it records the hop (`follows`), which makes the dependency the run's
subject (graph/state.subject_of): the analyst gathers its evidence next, and any change the run
then makes is judged, guarded, budgeted and verified as a change to the dependency.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agent.domain import WorkloadRef
from graph.context import HealingContext
from graph.state import HealingState, best_diagnosis, current_attempt, follow_record, subject_of
from graph.tracing import NodeTrace

NODE = "follow"


def follow(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The follow node: reads the decision's `follow` input, writes one `FollowRecord`."""
    ctx = runtime.context
    decision = state.get("decision")
    raw = (decision.get("inputs") or {}).get("follow") if decision else None
    diagnosis = best_diagnosis(state)
    if not raw or diagnosis is None:
        raise ValueError("follow reached without a dependency to follow (a wiring bug)")
    source, to = subject_of(state), WorkloadRef.model_validate(raw)
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=current_attempt(state), source=str(source), to=str(to))
    record = follow_record(source, to, diagnosis, current_attempt(state))
    tracer.end(f"{source} is a victim of {to}; investigating {to} next")
    return {"follows": [record]}
