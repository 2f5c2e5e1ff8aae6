"""What every reasoner promises: a diagnosis, what it cost, and a trace of how it got there."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from agent.domain import Diagnosis, Evidence, Incident, Usage


class TraceKind(StrEnum):
    """The kinds of step a reasoner records."""

    RULE = "rule"  # a rule of the catalogue matched
    PROMPT = "prompt"  # the messages sent to a model
    ANSWER = "answer"  # a model's raw answer
    TOOL_CALL = "tool_call"  # a read-only tool the model asked for
    REPAIR = "repair"  # invalid output fed back with its validation error
    CHECK = "check"  # a post-check changed the answer (e.g. unknown citations dropped)
    FALLBACK = "fallback"  # the hybrid reasoner chose or fell back to a reasoner; one-shot without tools
    BUDGET = "budget"  # a budget ran out (turns, tool calls, tokens, wall time): the answer is `unknown`


class TraceRecord(BaseModel):
    """One step of a reasoner's work, kept for the run store and the dashboard."""

    kind: TraceKind
    reasoner: str
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ReasonerResult(BaseModel):
    """A reasoner's answer: the diagnosis, its cost and the steps that led to it."""

    diagnosis: Diagnosis
    usage: Usage = Field(default_factory=Usage)
    trace: list[TraceRecord] = Field(default_factory=list)
    reasoner: str = Field(description="Which reasoner produced the diagnosis: rules, llm or hybrid.")
    decided_by: str | None = Field(
        default=None, description="Whose diagnosis it is when a reasoner arbitrates (hybrid: rules or llm)."
    )

    def side(self) -> str:
        """Whose diagnosis this is: `decided_by`, else the reasoner itself."""
        return self.decided_by or self.reasoner


# Where a reasoner's trace records go as they happen (the analyst streams them to the run's trace);
# set per call with `streaming`, so one reasoner serves concurrent runs.
_LIVE: ContextVar[Callable[[TraceRecord], None] | None] = ContextVar("paramedic_live_trace", default=None)


def publish(record: TraceRecord) -> bool:
    """Hand `record` to the current run's live trace, if any; True when it was taken."""
    observer = _LIVE.get()
    if observer is None:
        return False
    observer(record)
    return True


@contextmanager
def streaming(observer: Callable[[TraceRecord], None]) -> Iterator[list[TraceRecord]]:
    """Send records `publish`ed inside the block to `observer`; yields the list of those sent."""
    sent: list[TraceRecord] = []

    def keep(record: TraceRecord) -> None:
        sent.append(record)
        observer(record)

    token = _LIVE.set(keep)
    try:
        yield sent
    finally:
        _LIVE.reset(token)


class ReasonerErrorKind(StrEnum):
    """Why a reasoner could not answer."""

    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"  # transport errors, HTTP errors, refused connections
    MALFORMED_OUTPUT = "malformed_output"  # still invalid after the repair retry


class ReasonerError(Exception):
    """A reasoner failed; the graph's global breaker counts these.

    Carries the trace and usage gathered before the failure so the run store keeps them.
    """

    def __init__(
        self,
        kind: ReasonerErrorKind,
        message: str,
        *,
        trace: list[TraceRecord] | None = None,
        usage: Usage | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{kind.value}: {message}")
        self.kind = kind
        self.trace = list(trace or [])
        self.usage = usage or Usage()
        self.status = status  # the HTTP status the provider answered with, when it answered


@runtime_checkable
class Reasoner(Protocol):
    """Turns an incident and its evidence into a diagnosis."""

    name: str

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """Diagnose the incident from the evidence; raise `ReasonerError` when no answer can be given."""
        ...
