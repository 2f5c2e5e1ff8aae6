"""The LLM reasoner: a chat model reads the fenced evidence, may call read-only tools in a bounded
loop, and answers in the closed `DiagnosisAnswer` schema (validated by pydantic, one repair retry).

What the model says is checked, not trusted: the schema admits only `RootCause` and `ActionType`
values, unknown citations are dropped, and the final policy is enforced later by the graph.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any, Literal

import httpx
import openai
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from pydantic import ValidationError

from agent.domain import ActionType, Diagnosis, Evidence, Incident, RootCause, Usage
from agent.prompts import PromptTemplate, load_prompt
from agent.reasoners import untrusted
from agent.reasoners.answer import DiagnosisAnswer, answer_json_schema
from agent.reasoners.base import ReasonerError, ReasonerErrorKind, ReasonerResult, TraceKind, TraceRecord

StructuredMethod = Literal["json_schema", "function_calling"]
_TOOL_RESULT_CHARS = 8000
_TRACE_TEXT_CHARS = 20000


def _usage_of(message: Any) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    return Usage(
        model_calls=1,
        input_tokens=int(meta.get("input_tokens") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
    )


def _raw_text(message: Any) -> str:
    """What the model answered: its text, or the arguments of its tool calls."""
    if not isinstance(message, AIMessage):
        return str(message)
    if message.tool_calls:
        calls = [{"name": c["name"], "args": c["args"]} for c in message.tool_calls]
        return json.dumps(calls, default=str)
    invalid = getattr(message, "invalid_tool_calls", None)
    if invalid:
        return json.dumps([{"name": c.get("name"), "args": c.get("args")} for c in invalid], default=str)
    return message.content if isinstance(message.content, str) else json.dumps(message.content, default=str)


def _classify(exc: Exception) -> ReasonerErrorKind:
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return ReasonerErrorKind.TIMEOUT
    return ReasonerErrorKind.UNAVAILABLE


class _Run:
    """The state of one diagnosis: messages so far, usage and trace."""

    def __init__(self, reasoner: str) -> None:
        self.reasoner = reasoner
        self.usage = Usage()
        self.trace: list[TraceRecord] = []

    def record(self, kind: TraceKind, summary: str, **detail: Any) -> None:
        self.trace.append(TraceRecord(kind=kind, reasoner=self.reasoner, summary=summary, detail=detail))

    def fail(self, kind: ReasonerErrorKind, message: str) -> ReasonerError:
        return ReasonerError(kind, message, trace=self.trace, usage=self.usage)

    def invoke(self, runnable: Runnable[LanguageModelInput, Any], messages: list[BaseMessage]) -> Any:
        try:
            return runnable.invoke(messages)
        except Exception as exc:  # every transport/provider failure becomes one typed error
            kind = _classify(exc)
            raise self.fail(kind, f"{type(exc).__name__}: {exc}") from exc


class LLMReasoner:
    """Diagnoses with a chat model, optionally fetching more evidence through read-only tools."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        tools: Sequence[BaseTool] = (),
        max_tool_calls: int = 6,
        structured_method: StructuredMethod = "json_schema",
        witty: bool = False,
        name: str = "llm",
    ) -> None:
        if max_tool_calls < 0:
            raise ValueError("max_tool_calls must be >= 0")
        names = [t.name for t in tools]
        if len(set(names)) != len(names):
            raise ValueError(f"tool names must be unique, got {names}")
        self.name = name
        self._model = model
        self._tools = {t.name: t for t in tools}
        self._max_tool_calls = max_tool_calls
        self._method = structured_method
        self._witty = witty
        self._system: PromptTemplate = load_prompt("analyst_system")
        self._user: PromptTemplate = load_prompt("analyst_user")
        self._final: PromptTemplate = load_prompt("analyst_final")
        self._repair: PromptTemplate = load_prompt("repair")

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """Ask the model; raise ReasonerError on timeouts, provider failures or output still invalid
        after one repair."""
        run = _Run(self.name)
        boundary = untrusted.new_boundary()
        messages = self._opening(incident, evidence, boundary)
        run.record(
            TraceKind.PROMPT,
            "analyst prompt",
            messages=[{"role": m.type, "content": m.content} for m in messages],
        )
        if self._tools and self._max_tool_calls > 0:
            self._investigate(run, messages, boundary)
            messages.append(HumanMessage(self._final.render()))
        answer = self._answer(run, messages, boundary)
        diagnosis = self._checked(run, answer.to_diagnosis(), evidence)
        return ReasonerResult(diagnosis=diagnosis, usage=run.usage, trace=run.trace, reasoner=self.name)

    def _opening(self, incident: Incident, evidence: Evidence, boundary: str) -> list[BaseMessage]:
        tool_note = (
            f"You may call the read-only tools ({', '.join(sorted(self._tools))}) up to "
            f"{self._max_tool_calls} times in total to gather more evidence, then answer."
            if self._tools and self._max_tool_calls > 0
            else "Answer with the structured diagnosis."
        )
        system = self._system.render(
            categories=", ".join(c.value for c in RootCause),
            actions=", ".join(a.value for a in ActionType),
            witty=self._witty,
            boundary=boundary,
        )
        user = self._user.render(
            target=str(incident.target),
            boundary=boundary,
            incident_block=untrusted.incident_line(incident, boundary),
            evidence_block=untrusted.evidence_lines(evidence, boundary),
            gaps="; ".join(evidence.gaps),
            tool_note=tool_note,
        )
        return [SystemMessage(system), HumanMessage(user)]

    def _investigate(self, run: _Run, messages: list[BaseMessage], boundary: str) -> None:
        """The bounded tool loop: every requested call is answered; at most `max_tool_calls` run."""
        bound = self._model.bind_tools(list(self._tools.values()))
        calls = 0
        while True:
            reply = run.invoke(bound, messages)
            run.usage += _usage_of(reply)
            run.record(TraceKind.ANSWER, "model turn", text=_raw_text(reply)[:_TRACE_TEXT_CHARS])
            messages.append(reply)
            if not isinstance(reply, AIMessage) or not reply.tool_calls:
                return
            for call in reply.tool_calls:
                duration_ms = 0.0
                if calls >= self._max_tool_calls:
                    content, status = "refused: the tool-call budget is spent; answer now", "refused"
                elif call["name"] not in self._tools:
                    content, status = f"refused: there is no tool named {call['name']!r}", "refused"
                else:
                    calls += 1
                    content, status, duration_ms = self._run_tool(call["name"], call["args"])
                run.record(
                    TraceKind.TOOL_CALL,
                    f"{call['name']}: {status}",
                    tool=call["name"],
                    arguments=call["args"],
                    status=status,
                    result=content[:_TOOL_RESULT_CHARS],
                    duration_ms=duration_ms,
                )
                fenced = untrusted.fence("TOOL-RESULT", content[:_TOOL_RESULT_CHARS], boundary)
                messages.append(ToolMessage(content=fenced, tool_call_id=call["id"] or call["name"]))
            if calls >= self._max_tool_calls:
                return

    def _run_tool(self, name: str, args: dict[str, Any]) -> tuple[str, str, float]:
        started = time.monotonic()
        try:
            output = self._tools[name].invoke(args)
        except Exception as exc:  # a failing tool is a result the model can read, not a crash
            text, status = f"error: {type(exc).__name__}: {exc}", "error"
        else:
            text = output if isinstance(output, str) else json.dumps(output, default=str)
            status = "ok"
        return text, status, round((time.monotonic() - started) * 1000, 1)

    def _answer(self, run: _Run, messages: list[BaseMessage], boundary: str) -> DiagnosisAnswer:
        structured = self._model.with_structured_output(
            answer_json_schema(), method=self._method, include_raw=True
        )
        attempt_messages = list(messages)
        for attempt in (1, 2):
            out = run.invoke(structured, attempt_messages)
            raw = out.get("raw") if isinstance(out, dict) else None
            run.usage += _usage_of(raw)
            raw_text = _raw_text(raw)
            summary = f"structured answer, attempt {attempt}"
            run.record(TraceKind.ANSWER, summary, text=raw_text[:_TRACE_TEXT_CHARS])
            try:
                return self._validated(out)
            except (ValidationError, ValueError) as exc:
                error = str(exc)
                if attempt == 2:
                    raise run.fail(
                        ReasonerErrorKind.MALFORMED_OUTPUT, f"invalid after one repair: {error[:500]}"
                    ) from exc
                run.record(TraceKind.REPAIR, "invalid answer fed back with its validation error", error=error)
                repair = self._repair.render(
                    boundary=boundary, previous_answer=untrusted.scrub(raw_text, boundary), error=error
                )
                attempt_messages = [*messages, HumanMessage(repair)]
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _validated(out: Any) -> DiagnosisAnswer:
        if not isinstance(out, dict):
            raise ValueError(f"unexpected structured output {type(out).__name__}")
        if out.get("parsing_error") is not None:
            raise ValueError(f"the answer is not valid JSON for the schema: {out['parsing_error']}")
        parsed = out.get("parsed")
        if parsed is None:
            invalid = getattr(out.get("raw"), "invalid_tool_calls", None)
            if invalid:
                raise ValueError(f"the tool-call arguments are not valid JSON: {invalid[0].get('error')}")
            raise ValueError("no structured answer was given")
        if isinstance(parsed, DiagnosisAnswer):
            return parsed
        return DiagnosisAnswer.model_validate(parsed)

    def _checked(self, run: _Run, diagnosis: Diagnosis, evidence: Evidence) -> Diagnosis:
        known = evidence.ids()
        kept = [i for i in diagnosis.cited_evidence if i in known]
        dropped = [i for i in diagnosis.cited_evidence if i not in known]
        update: dict[str, Any] = {"cited_evidence": kept}
        if dropped:
            run.record(TraceKind.CHECK, f"dropped {len(dropped)} unknown citation(s)", dropped=dropped)
        if not self._witty and diagnosis.quip:
            update["quip"] = None
        return diagnosis.model_copy(update=update)
