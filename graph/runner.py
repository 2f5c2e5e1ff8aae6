"""Driving one run of the compiled graph: start, resume after an approval, continue after a crash.

A `HealingApp` is the compiled graph and the `HealingContext` its runs get: every drive streams the
graph with `context=` (LangGraph's runtime context; never checkpointed, the state is).

Trace events come off LangGraph's `custom` stream and go to the caller's `on_event` as they
happen (the CLI prints them, the server stores and streams them). A drive ends either completed
(a terminal node wrote its `outcome`) or interrupted (waiting for a human: an approval, or the
merge of a pull request; `approval_request` is the payload, `waiting_on` the node that waits).
The run id is the checkpointer thread, so `continue_run` after a
process crash picks up at the last checkpoint: completed nodes are not run again. A node that
raises makes the drive raise; the checkpoint before it stays, so `continue_run` can retry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from langgraph.types import Command

from agent import trace
from agent.domain import Incident
from agent.trace import TraceEvent
from graph.builder import CompiledHealingGraph
from graph.checkpointing import run_config
from graph.context import HealingContext
from graph.state import HealingState, initial_state

OnEvent = Callable[[TraceEvent], None]
DriveStop = Literal["completed", "interrupted"]  # why one drive of the graph stopped
MERGE_NODE = "merge_gate"  # the node whose interrupt is a wait for a merge (any other asks for approval)


@dataclass(frozen=True)
class HealingApp:
    """The compiled healing graph and the context every run of it gets."""

    graph: CompiledHealingGraph
    context: HealingContext


@dataclass(frozen=True)
class RunResult:
    """Where a run stands after one drive of the graph."""

    run_id: str
    stop: DriveStop
    state: HealingState
    approval_request: dict[str, Any] | None = None  # the interrupt payload, when interrupted
    waiting_on: str | None = None  # the interrupted node: "approval" or "merge_gate"

    @property
    def interrupted(self) -> bool:
        """Whether the drive stopped to wait for a human (`approval_request` says what for)."""
        return self.stop == "interrupted"

    @property
    def waits_for_merge(self) -> bool:
        """Whether the run waits for its pull request to be merged or closed (not for an approval)."""
        return self.interrupted and self.waiting_on == MERGE_NODE

    @property
    def outcome(self) -> str | None:
        """The terminal outcome (`graph.state.RunOutcome` value), None while not completed."""
        return self.state.get("outcome")


def _ignore(_: TraceEvent) -> None:
    return None


def drive(app: HealingApp, run_id: str, graph_input: Any, on_event: OnEvent = _ignore) -> RunResult:
    """Stream the graph from `graph_input` until it ends or interrupts, forwarding trace events."""
    config = run_config(run_id)
    stream = app.graph.stream(graph_input, config, context=app.context, stream_mode=["custom", "updates"])
    for mode, chunk in stream:
        if mode == "custom":
            event = trace.from_stream_chunk(chunk)
            if event is not None:
                on_event(event)
    snapshot = app.graph.get_state(config)
    # LangGraph's snapshot is not generic over the state: its values are this graph's HealingState.
    state = cast(HealingState, dict(snapshot.values))
    pending = [(task.name, i) for task in snapshot.tasks for i in task.interrupts]
    if pending:
        node, first = pending[0]
        return RunResult(run_id, "interrupted", state, dict(first.value), waiting_on=node)
    return RunResult(run_id, "completed", state)


def start_run(app: HealingApp, run_id: str, incident: Incident, on_event: OnEvent = _ignore) -> RunResult:
    """Begin a new run for `incident` on thread `run_id`."""
    return drive(app, run_id, initial_state(run_id, incident), on_event)


def resume_run(
    app: HealingApp, run_id: str, answer: Mapping[str, Any], on_event: OnEvent = _ignore
) -> RunResult:
    """Answer the pending approval (`{"approved": bool, "by": str, "comment": str}`) and go on."""
    return drive(app, run_id, Command(resume=dict(answer)), on_event)


def continue_run(app: HealingApp, run_id: str, on_event: OnEvent = _ignore) -> RunResult:
    """Pick a run up at its last checkpoint (after a crash); completed steps are not repeated."""
    return drive(app, run_id, None, on_event)


def _pending(app: HealingApp, run_id: str, *, merge: bool) -> dict[str, Any] | None:
    snapshot = app.graph.get_state(run_config(run_id))
    for task in snapshot.tasks:
        if (task.name == MERGE_NODE) != merge:
            continue
        for pending in task.interrupts:
            return dict(pending.value)
    return None


def pending_approval(app: HealingApp, run_id: str) -> dict[str, Any] | None:
    """The approval payload a run is waiting on (any interrupt but the merge wait's), if any."""
    return _pending(app, run_id, merge=False)


def pending_merge(app: HealingApp, run_id: str) -> dict[str, Any] | None:
    """The `graph.merge_watch.MergeWaitRequest` (as JSON) a run waits on, if it waits for a merge."""
    return _pending(app, run_id, merge=True)
