"""The one shape every tool answers in, and the trace event every tool call emits.

A tool never raises for an expected failure (unreachable server, not found, denied by policy):
it returns a `ToolResult` whose status says what happened, so the graph can carry on.

`call_tool` is also the redaction boundary (`tools.boundary`): the data, the error, the summary
and the arguments of every call are redacted before they leave it, so no caller of a tool ever
holds a raw secret. A result that cannot be redacted is an error without its data (fail closed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from tools.boundary import redact_text, redact_value

T = TypeVar("T")


class ToolStatus(StrEnum):
    """What became of a tool call."""

    OK = "ok"
    ERROR = "error"  # the call failed (after retries, where the failure looked transient)
    DENIED = "denied"  # the policy guard refused a write
    NEEDS_APPROVAL = "needs_approval"  # the policy guard wants a human first
    UNAVAILABLE = "unavailable"  # the backing service is not configured or cannot be reached


@dataclass(frozen=True)
class ToolResult(Generic[T]):
    """A tool's answer: status, data on success, a human-readable error otherwise."""

    tool: str
    status: ToolStatus
    data: T | None = None
    error: str | None = None
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the call succeeded and `data` holds the answer."""
        return self.status is ToolStatus.OK


@dataclass(frozen=True)
class ToolCallEvent:
    """What the reasoning trace records for one tool call."""

    tool: str
    arguments: Mapping[str, Any]
    status: ToolStatus
    duration_ms: float
    summary: str
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


TraceSink = Callable[[ToolCallEvent], None]


def discard(_: ToolCallEvent) -> None:
    """A trace sink that keeps nothing (for callers that do not trace)."""


class ToolFailure(Exception):
    """An expected failure a tool reports as a result instead of raising."""

    def __init__(self, message: str, status: ToolStatus = ToolStatus.ERROR, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, ToolFailure) and exc.transient


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for transient failures: `attempts` tries, exponential waits capped at `max_wait`."""

    attempts: int = 3
    initial_wait: float = 0.2
    max_wait: float = 2.0


NO_RETRY = RetryPolicy(attempts=1)


def call_tool(
    tool: str,
    arguments: Mapping[str, Any],
    fn: Callable[[], T],
    *,
    sink: TraceSink = discard,
    summarize: Callable[[T], str] = lambda _: "ok",
    retry: RetryPolicy = RetryPolicy(),
) -> ToolResult[T]:
    """Run `fn`, retrying transient `ToolFailure`s, and turn the outcome into a result and an event.

    `fn` signals expected failures by raising `ToolFailure`; anything else is a bug in the
    adapter and is reported as an error result with its type name, never swallowed silently.
    """
    started = time.monotonic()
    started_at = datetime.now(UTC)
    retrying = Retrying(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.initial_wait, max=retry.max_wait),
        retry=retry_if_exception(_is_transient),
        reraise=True,
    )
    try:
        data = retrying(fn)
        result: ToolResult[T] = ToolResult(tool, ToolStatus.OK, data=data)
        summary = summarize(data)
    except ToolFailure as exc:
        result = ToolResult(tool, exc.status, error=str(exc))
        summary = f"{exc.status.value}: {exc}"
    except Exception as exc:  # adapters must not crash the graph; the trace keeps the reason
        result = ToolResult(tool, ToolStatus.ERROR, error=f"{type(exc).__name__}: {exc}")
        summary = f"error: {type(exc).__name__}"
    duration_ms = (time.monotonic() - started) * 1000
    result, summary, shown = _redacted(result, summary, arguments)
    result = ToolResult(result.tool, result.status, result.data, result.error, duration_ms)
    sink(
        ToolCallEvent(
            tool=tool,
            arguments=shown,
            status=result.status,
            duration_ms=duration_ms,
            summary=summary,
            error=result.error,
            started_at=started_at,
        )
    )
    return result


def _redacted(
    result: ToolResult[T], summary: str, arguments: Mapping[str, Any]
) -> tuple[ToolResult[T], str, dict[str, Any]]:
    """The result, summary and arguments as they may leave the tools layer (`tools.boundary`)."""
    try:
        shown = redact_value(dict(arguments))
        error = redact_text(result.error) if result.error is not None else None
        return (
            ToolResult(result.tool, result.status, redact_value(result.data), error),
            redact_text(summary),
            shown,
        )
    except Exception as exc:  # never let unredacted data out because redaction itself failed
        reason = f"the result could not be redacted ({type(exc).__name__}), so it is withheld"
        return ToolResult(result.tool, ToolStatus.ERROR, error=reason), f"error: {reason}", {}
