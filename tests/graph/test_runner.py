"""Driving a run: trace events forwarded live, interrupt then resume, and continuing after a crash."""

from __future__ import annotations

from dataclasses import replace

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent import trace
from graph.context import HealingContext
from graph.runner import HealingApp, continue_run, pending_approval, resume_run, start_run
from graph.state import HealingState
from graph.tracing import emit
from tests.agent import evidence_samples as samples
from tests.graph.contexts import healing_context


class Crash(RuntimeError):
    """The process dies in the middle of a node."""


def _graph(crash_once: list[bool] | None = None, context: HealingContext | None = None):
    calls: list[str] = []

    def look(state: HealingState, runtime: Runtime[HealingContext]) -> dict:
        calls.append("look")
        emit(trace.note(state["run_id"], "look", f"looked as {runtime.context.actor}"))
        return {"reasoner_error": None}

    def ask(state: HealingState) -> dict:
        answer = interrupt({"approval_id": "a1", "question": "go?"})
        return {"approval": {"status": "approved" if answer["approved"] else "rejected", "by": answer["by"]}}

    def finish(state: HealingState, runtime: Runtime[HealingContext]) -> dict:
        calls.append(f"finish as {runtime.context.actor}")
        if crash_once:
            crash_once.pop()
            raise Crash("killed mid-node")
        return {"outcome": "reported", "outcome_reason": "done"}

    builder = StateGraph(HealingState, context_schema=HealingContext)
    builder.add_node("look", look)
    builder.add_node("ask", ask)
    builder.add_node("finish", finish)
    builder.add_edge(START, "look")
    builder.add_edge("look", "ask")
    builder.add_edge("ask", "finish")
    builder.add_edge("finish", END)
    app = HealingApp(builder.compile(checkpointer=InMemorySaver()), context or healing_context())
    return app, calls


def test_a_run_interrupts_for_approval_then_completes_on_resume() -> None:
    app, _ = _graph()
    events: list[trace.TraceEvent] = []
    first = start_run(app, "run-1", samples.incident(), events.append)
    assert first.interrupted and first.outcome is None
    assert first.approval_request == {"approval_id": "a1", "question": "go?"}
    assert pending_approval(app, "run-1") == first.approval_request
    assert [e.summary for e in events] == ["looked as paramedic"]

    done = resume_run(app, "run-1", {"approved": True, "by": "alice"})
    assert done.stop == "completed" and done.outcome == "reported"
    assert done.state["approval"] == {"status": "approved", "by": "alice"}
    assert pending_approval(app, "run-1") is None


def test_continue_after_a_crash_does_not_repeat_completed_nodes() -> None:
    app, calls = _graph(crash_once=[True])
    start_run(app, "run-2", samples.incident())
    try:
        resume_run(app, "run-2", {"approved": False, "by": "bob"})
    except Crash:
        pass
    else:  # pragma: no cover - the fixture graph always crashes once
        raise AssertionError("the node was meant to crash")
    # Another process picks the run up: same checkpoints, its own context (never checkpointed).
    restarted = HealingApp(app.graph, replace(app.context, actor="replica-2"))
    result = continue_run(restarted, "run-2")
    assert result.stop == "completed" and result.state["approval"]["status"] == "rejected"
    assert calls == ["look", "finish as paramedic", "finish as replica-2"], (
        "look ran once; only the crashed node ran again, with the new process's context"
    )
