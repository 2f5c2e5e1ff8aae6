"""One LLM investigation's bookkeeping: the trace, the usage, the budget meter, and every model request.

`Conversation.invoke` is the only place a model is called: it checks the budget first, retries a
request that timed out or met a 5xx (with a short back-off, within the wall-time budget), turns
every provider failure into one typed `ReasonerError`, and accounts what the request cost (the
provider's token counts, or an estimate when it gives none). Records go to the trace and, when the
caller streams them (`base.streaming`), to the run's live trace at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.runnables import Runnable

from agent.domain import Usage
from agent.reasoners import tokens
from agent.reasoners.base import ReasonerError, ReasonerErrorKind, TraceKind, TraceRecord, publish
from agent.reasoners.budget import LoopBudget, Meter

BACKOFF_SECONDS = 0.5


def _status_of(exc: BaseException) -> int | None:
    for attribute in ("status_code", "status"):
        value = getattr(exc, attribute, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def classify(exc: BaseException) -> tuple[ReasonerErrorKind, bool]:
    """The error kind of a failed request, and whether trying again may help (timeouts, 429, 5xx,
    connection failures)."""
    # Here, not at the top: openai costs 1.1 s of CPU to import, and its exceptions exist only in a
    # process that built an OpenAI model (which imported it already); an Ollama failure pays it once.
    import openai

    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return ReasonerErrorKind.TIMEOUT, True
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return ReasonerErrorKind.UNAVAILABLE, True
    status = _status_of(exc)
    transient = status is not None and (status == 429 or status >= 500)
    return ReasonerErrorKind.UNAVAILABLE, transient


def usage_of(message: Any) -> tuple[int, int]:
    """(input, output) tokens a model reply reports (0, 0 when it reports none)."""
    meta = getattr(message, "usage_metadata", None) or {}
    return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)


def raw_message(out: Any) -> Any:
    """The model's message in a reply: the reply itself, or the `raw` of a structured-output dict."""
    return out.get("raw") if isinstance(out, dict) else out


class Conversation:
    """The state of one investigation (one diagnosis or one review)."""

    def __init__(
        self,
        reasoner: str,
        budget: LoopBudget,
        boundary: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.reasoner = reasoner
        self.budget = budget
        self.boundary = boundary
        self.meter = Meter(budget, clock)
        self.usage = Usage()
        self.trace: list[TraceRecord] = []
        self._sleep = sleep
        self.last_duration_ms = 0.0

    def record(self, kind: TraceKind, summary: str, **detail: Any) -> TraceRecord:
        """Add a step to the trace (and to the run's live trace when it is being streamed)."""
        record = TraceRecord(kind=kind, reasoner=self.reasoner, summary=summary, detail=detail)
        self.trace.append(record)
        publish(record)
        return record

    def record_prompt(self, summary: str, messages: Sequence[BaseMessage], **detail: Any) -> TraceRecord:
        """Trace a prompt about to be sent: its messages and their estimated size, with `detail`."""
        return self.record(
            TraceKind.PROMPT,
            summary,
            messages=[{"role": m.type, "content": m.content} for m in messages],
            prompt_tokens=tokens.estimate_messages(messages),
            estimated_by=tokens.method(),
            **detail,
        )

    def fail(self, kind: ReasonerErrorKind, message: str, status: int | None = None) -> ReasonerError:
        """A typed failure carrying the trace and usage so far."""
        return ReasonerError(kind, message, trace=self.trace, usage=self.usage, status=status)

    def invoke(self, runnable: Runnable[Any, Any], messages: Sequence[BaseMessage], what: str) -> Any:
        """One model request (retried when transient); raises `BudgetSpent` or `ReasonerError`."""
        attempt = 0
        while True:
            self.meter.check()
            self.meter.turns += 1
            started = time.monotonic()
            try:
                out = runnable.invoke(list(messages))
            except Exception as exc:  # every transport/provider failure becomes one typed error
                kind, transient = classify(exc)
                message = f"{type(exc).__name__}: {exc}"
                self.usage += Usage(model_calls=1)
                wait = BACKOFF_SECONDS * 2**attempt
                if transient and attempt < self.budget.retries and self.meter.remaining_seconds() > wait:
                    attempt += 1
                    self.record(TraceKind.CHECK, f"{what}: {kind.value}, retry {attempt} of "
                                f"{self.budget.retries}", error=message[:500])  # fmt: skip
                    self._sleep(wait)
                    continue
                raise self.fail(kind, message, _status_of(exc)) from exc
            self._account(out, messages, round((time.monotonic() - started) * 1000, 1))
            return out

    def _account(self, out: Any, messages: Sequence[BaseMessage], duration_ms: float) -> None:
        raw = raw_message(out)
        reported_in, reported_out = usage_of(raw)
        prompt = reported_in or tokens.estimate_messages(messages)
        answer = reported_out or (tokens.estimate_messages([raw]) if isinstance(raw, AIMessage) else 0)
        self.meter.tokens += prompt + answer
        self.usage += Usage(
            model_calls=1, input_tokens=reported_in, output_tokens=reported_out, max_prompt_tokens=prompt
        )
        self.last_duration_ms = duration_ms

    def count_tool_call(self) -> None:
        """One tool call was run."""
        self.meter.tool_calls += 1
        self.usage += Usage(tool_calls=1)
