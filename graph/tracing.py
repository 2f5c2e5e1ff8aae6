"""Trace events out of the healing graph: LangGraph custom stream chunks, and a per-node helper.

`emit` sends an `agent.trace.TraceEvent` on the running graph's custom stream and does nothing
outside a graph run, so nodes called as plain functions (unit tests, a REPL) need no stubbing.
`NodeTrace` binds a run id, a node name and an emitter: it times the node, turns tool calls into
events (its `sink` is a `tools.result.TraceSink`) and wraps the typed builders of `agent.trace`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent import trace
from agent.reasoners.base import TraceRecord
from agent.trace import TraceEvent
from tools.result import ToolCallEvent

Emit = Callable[[TraceEvent], None]


def emit(event: TraceEvent) -> None:
    """`agent.trace.emit`, except that outside a graph run it does nothing instead of raising."""
    try:
        trace.emit(event)
    except RuntimeError:  # called outside a runnable context: nobody is listening
        return


@dataclass
class NodeTrace:
    """One node's trace: start/end with duration, tool calls, and the typed events in between."""

    run_id: str
    node: str
    emit: Emit = emit
    _started: float = field(default_factory=time.monotonic)

    def start(self, **payload: Any) -> None:
        """The node began (restarts the duration clock)."""
        self._started = time.monotonic()
        self.emit(trace.node_start(self.run_id, self.node, payload=payload))

    def end(self, summary: str, **payload: Any) -> None:
        """The node finished; `summary` says what it concluded."""
        duration = (time.monotonic() - self._started) * 1000
        self.emit(
            trace.node_end(self.run_id, self.node, summary=summary, duration_ms=duration, payload=payload)
        )

    def sink(self, call: ToolCallEvent) -> None:
        """A `TraceSink` for tools: every tool call becomes a trace event of this node."""
        self.emit(trace.tool_call(self.run_id, call, node=self.node))

    def reasoner(self, records: list[TraceRecord]) -> None:
        """A reasoner's own steps (rules matched, prompts, model outputs), in order."""
        for record in records:
            self.emit(trace.from_reasoner_record(self.run_id, self.node, record))

    def decision(self, route: str, rationale: str, inputs: Mapping[str, Any] | None = None) -> None:
        """A route chosen, with its rationale."""
        self.emit(trace.decision(self.run_id, self.node, route=route, rationale=rationale, inputs=inputs))

    def approval(self, status: str, **details: Any) -> None:
        """A human was asked (`status="requested"`, the request as details) or answered."""
        self.emit(trace.approval(self.run_id, self.node, status=status, details=details))

    def action(self, record: Mapping[str, Any]) -> None:
        """An action's audit record (see `graph.action_records.ActionRecord`)."""
        self.emit(
            trace.action(
                self.run_id,
                self.node,
                action_type=str(record["action"]),
                who=str(record["who"]),
                what=str(record["what"]),
                why=str(record["why"]),
                diff=str(record["diff"]),
                result=f"{record['result']['status']}: {record['result']['detail']}",
                details={k: v for k, v in record.items() if k not in ("who", "what", "why", "diff")},
            )
        )

    def verification(self, healthy: bool, detail: str, attempt: int) -> None:
        """Whether the workload was healthy after an attempt."""
        self.emit(trace.verification(self.run_id, self.node, healthy=healthy, detail=detail, attempt=attempt))

    def wait(self, status: str, summary: str, details: Mapping[str, Any] | None = None) -> None:
        """The run starts waiting on something outside it, or the wait ended (`status` says how)."""
        self.emit(trace.wait(self.run_id, self.node, status=status, summary=summary, details=details))

    def note(self, summary: str, **payload: Any) -> None:
        """Anything else worth keeping."""
        self.emit(trace.note(self.run_id, self.node, summary, payload))

    def error(self, message: str, exc: BaseException | None = None) -> None:
        """Something failed (the run goes on)."""
        self.emit(trace.error(self.run_id, self.node, message=message, exc=exc))
