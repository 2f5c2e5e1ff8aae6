"""The bounded tool loop: the model asks for reads, they run, their results go back, until it stops.

Every requested call gets an answer the model can read: the result (fenced as untrusted data, with
a `result_id` the answer may cite), or an error — unknown tool, malformed or invalid arguments, out
of scope, a failing read — and never an exception. The loop ends when the model stops calling, the
tool-call budget is spent, or the next result would push the prompt past its window; a spent
turn, token or time budget raises `BudgetSpent`. A server that refuses `tools` on the first
request, or a model that says it cannot use them, ends it as `UNSUPPORTED` (the caller falls back
to a one-shot prompt). Each call is one TOOL_CALL trace record: tool, arguments, status, result id
and summary (redacted), duration and the tokens it added.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import ValidationError

from agent.reasoners import tokens
from agent.reasoners.base import ReasonerError, ReasonerErrorKind, TraceKind
from agent.reasoners.budget import ANSWER_RESERVE_TOKENS
from agent.reasoners.conversation import Conversation
from agent.reasoners.untrusted import fence_object
from tools.investigation import InvestigationTools, ToolOutcome
from tools.result import ToolStatus

WINDOW_SAFETY = 1.25  # estimates are rough: keep a margin inside the prompt window
TRACE_RESULT_CHARS = 2_000
_CANNOT = re.compile(
    r"\b(?:do not|don't|cannot|can't|unable to)\s+(?:support|use|call|access)\s+(?:the\s+)?"
    r"(?:tools?|functions?)",
    re.I,
)


class LoopEnd(StrEnum):
    """Why the tool loop stopped."""

    STOPPED = "stopped"  # the model stopped calling tools after using some
    NO_CALLS = "no_calls"  # the model answered without calling a tool
    TOOLS_SPENT = "tools_spent"  # the tool-call budget is spent
    WINDOW_FULL = "window_full"  # another result would not fit the prompt window
    UNSUPPORTED = "unsupported"  # the server refused `tools`, or the model said it cannot use them


@dataclass(frozen=True)
class LocalTool:
    """A tool answered inside the reasoner (e.g. an evidence item left out of the opening)."""

    name: str
    spec: dict[str, Any]
    run: Callable[[Any], ToolOutcome]


@dataclass
class LoopResult:
    """How the loop ended, the last reply, and the results fetched (id -> outcome, successful ones)."""

    end: LoopEnd
    last_reply: AIMessage | None = None
    fetched: dict[str, ToolOutcome] = field(default_factory=dict)
    detail: str = ""


def _reply_text(reply: AIMessage) -> str:
    content = reply.content
    if isinstance(content, str):
        return content
    return "".join(
        p if isinstance(p, str) else str(p.get("text", "")) for p in content if isinstance(p, str | dict)
    )


class ToolLoop:
    """Runs one model's tool calls against the investigation toolset and any local tools."""

    def __init__(
        self, model: BaseChatModel, tools: InvestigationTools | None, local: Sequence[LocalTool] = ()
    ) -> None:
        self._model = model
        self._tools = tools
        self._local = {t.name: t for t in local}
        specs = [*(tools.function_specs() if tools is not None else []), *(t.spec for t in local)]
        self.names = [s["function"]["name"] for s in specs]
        self._specs = specs
        self._spec_tokens = tokens.estimate(json.dumps(specs))

    def run(self, conv: Conversation, messages: list[BaseMessage]) -> LoopResult:
        """Call the model with the tools until it stops; `messages` grows with the exchange."""
        bound = self._model.bind_tools(self._specs)
        result = LoopResult(LoopEnd.NO_CALLS)
        first = True
        while True:
            try:
                reply = conv.invoke(bound, messages, "tool turn")
            except ReasonerError as exc:
                if first and _refuses_tools(exc):
                    return LoopResult(LoopEnd.UNSUPPORTED, detail=f"the server refused tools: {exc}"[:500])
                if isinstance(exc.__cause__, OutputParserException | ValidationError):
                    # the client could not read the model's tool call: the model's error, not the server's
                    self._malformed_reply(conv, messages, exc.__cause__)
                    first = False
                    continue
                raise
            if not isinstance(reply, AIMessage):
                unexpected = f"unexpected reply {type(reply).__name__}"
                raise conv.fail(ReasonerErrorKind.MALFORMED_OUTPUT, unexpected)
            invalid = list(getattr(reply, "invalid_tool_calls", None) or [])
            asked = [c["name"] for c in reply.tool_calls]
            text = _reply_text(reply)
            conv.record(
                TraceKind.ANSWER, "model turn", text=text[:4000], tool_calls=asked, turn=conv.meter.turns
            )
            messages.append(reply)
            if not reply.tool_calls and not invalid:
                result.last_reply = reply
                if first and _CANNOT.search(text):
                    result.end, result.detail = LoopEnd.UNSUPPORTED, "the model says it cannot use tools"
                elif not first:
                    result.end = LoopEnd.STOPPED
                return result
            first = False
            for call in reply.tool_calls:
                self._answer_call(conv, messages, call["name"], call["args"], call.get("id"), result)
            for bad in invalid:
                self._malformed_call(conv, messages, bad)
            if result.end in (LoopEnd.TOOLS_SPENT, LoopEnd.WINDOW_FULL):
                return result

    def _answer_call(
        self,
        conv: Conversation,
        messages: list[BaseMessage],
        name: str,
        args: Any,
        call_id: str | None,
        result: LoopResult,
    ) -> None:
        if conv.meter.tool_calls_left <= 0:
            result.end = LoopEnd.TOOLS_SPENT
            spent = "refused: the tool-call budget is spent; answer now"
            self._reply(conv, messages, call_id, _refusal(name, args, spent), status="refused")
            return
        conv.count_tool_call()
        local = self._local.get(name)
        outcome = local.run(args) if local is not None else self._call(name, args)
        result_id = f"tool:{conv.meter.tool_calls}"
        payload: dict[str, Any] = {"result_id": result_id, "tool": name, "status": outcome.status.value}
        if outcome.truncated:
            payload["result_text"] = outcome.text
        else:
            payload["result"] = outcome.content
        content = fence_object("TOOL-RESULT", payload, conv.boundary)
        needed = tokens.estimate_messages(messages) + self._spec_tokens + tokens.estimate(content)
        if needed * WINDOW_SAFETY + ANSWER_RESERVE_TOKENS > conv.budget.prompt_window:
            result.end = LoopEnd.WINDOW_FULL
            full = f"refused: the conversation is at its size limit ({conv.budget.prompt_window} tokens)"
            self._reply(
                conv, messages, call_id, _refusal(name, args, full + "; answer now"), status="refused"
            )
            return
        if outcome.ok:
            result.fetched[result_id] = outcome
        if conv.meter.tool_calls_left <= 0:
            result.end = LoopEnd.TOOLS_SPENT
        self._reply(conv, messages, call_id, outcome, content=content, result_id=result_id)

    def _call(self, name: str, args: Any) -> ToolOutcome:
        unknown = f"unknown tool {name!r}; the tools are: {', '.join(self.names)}"
        if self._tools is None:
            return ToolOutcome.failed(name, _jsonable(args), ToolStatus.ERROR, unknown)
        outcome = self._tools.call(name, args)
        said = str(outcome.content.get("error", "")) if isinstance(outcome.content, dict) else ""
        if outcome.status is ToolStatus.ERROR and said.startswith("unknown tool"):
            # the toolset lists its own tools; the model must hear about the local ones too
            return ToolOutcome.failed(name, outcome.arguments, ToolStatus.ERROR, unknown)
        return outcome

    def _malformed_call(
        self, conv: Conversation, messages: list[BaseMessage], bad: Mapping[str, Any]
    ) -> None:
        """A call whose arguments are not JSON (the provider kept it as an invalid tool call)."""
        name = str(bad.get("name") or "?")
        error = f"the arguments are not valid JSON: {str(bad.get('error') or '')[:300]}"
        raw = {"(raw)": str(bad.get("args"))[:300]}
        self._reply(conv, messages, bad.get("id"), ToolOutcome.failed(name, raw, ToolStatus.ERROR, error),
                    status="malformed")  # fmt: skip

    @staticmethod
    def _reply(
        conv: Conversation,
        messages: list[BaseMessage],
        call_id: str | None,
        outcome: ToolOutcome,
        *,
        status: str | None = None,
        content: str | None = None,
        result_id: str | None = None,
    ) -> None:
        """Answer one call: the model reads `content` (the fenced outcome); the trace gets one record."""
        name = outcome.tool
        if content is None:
            payload = {"tool": name, "status": outcome.status.value, "result": outcome.content}
            content = fence_object("TOOL-RESULT", payload, conv.boundary)
        added = tokens.estimate(content)
        conv.record(
            TraceKind.TOOL_CALL,
            f"{name}: {status or outcome.status.value}",
            tool=name,
            arguments=outcome.arguments,
            status=status or outcome.status.value,
            result_id=result_id,
            result_summary=outcome.summary,
            result=outcome.text[:TRACE_RESULT_CHARS],
            duration_ms=outcome.duration_ms,
            tokens=added,
        )
        answered = "success" if outcome.ok else "error"
        messages.append(ToolMessage(content=content, tool_call_id=call_id or name, status=answered))

    @staticmethod
    def _malformed_reply(conv: Conversation, messages: list[BaseMessage], exc: Exception) -> None:
        """The provider could not even parse the model's tool call: say so and let it try again."""
        error = str(exc)[:500]
        conv.record(
            TraceKind.TOOL_CALL, "?: malformed", tool="?", arguments={}, status="malformed", result=error,
            duration_ms=0.0, tokens=tokens.estimate(error),
        )  # fmt: skip
        retry = f"Your last tool call could not be parsed ({error[:200]}). Call the tool again with a JSON "
        messages.append(HumanMessage(retry + "object of arguments, or answer."))


def _refuses_tools(exc: ReasonerError) -> bool:
    """An HTTP error about tools on the first request: the server (or model) cannot take them
    (Ollama: "does not support tools"; vLLM: auto tool choice not enabled; llama.cpp: needs --jinja)."""
    return exc.status is not None and 400 <= exc.status < 600 and "tool" in str(exc).lower()


def _refusal(name: str, args: Any, message: str) -> ToolOutcome:
    return ToolOutcome.failed(name, _jsonable(args), ToolStatus.DENIED, message)


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value if value is None or isinstance(value, bool | int | float | str) else str(value)
