"""One LLM investigation from opening to structured answer: the tool loop, the one-shot fallback, the
final answer with a single repair. The analyst (`llm.LLMReasoner`) and the auditor's reviewer
(`review.LLMReviewer`) are this with their own prompts and answer schemas.

With tools, the model first sees the compact opening and investigates; a model that cannot call
tools (the server refuses them, it says so, or it never calls one) is asked again over the larger
one-shot opening, and the fallback is written in the trace. A server that refused tools once is
not offered them again by this instance. When the model's last reply already is a valid answer it
is taken as is; otherwise it is asked for the structured answer (JSON schema or a forced function).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from agent.domain import Evidence
from agent.prompts import PromptTemplate, load_prompt
from agent.reasoners import untrusted
from agent.reasoners.base import ReasonerErrorKind, TraceKind
from agent.reasoners.budget import BudgetSpent
from agent.reasoners.conversation import Conversation, raw_message
from agent.reasoners.tool_loop import LocalTool, LoopEnd, ToolLoop
from tools.investigation import InvestigationTools, ToolOutcome

StructuredMethod = Literal["json_schema", "function_calling"]
A = TypeVar("A", bound=BaseModel)
TRACE_TEXT_CHARS = 20_000
_FENCED_JSON = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)

# (with_tools) -> the opening messages; called again with False for the one-shot fallback
Opening = Callable[[bool], list[BaseMessage]]


@dataclass(frozen=True)
class Finding(Generic[A]):
    """A validated answer and the tool results it may cite (result id -> outcome)."""

    answer: A
    fetched: dict[str, ToolOutcome]
    used_tools: bool

    def known_citations(self, conv: Conversation, cited: Sequence[str], evidence: Evidence) -> list[str]:
        """The ids of `cited` that the evidence or this investigation's tool results hold; the rest
        (made up, or mistyped) are dropped and the drop is traced."""
        known = evidence.ids() | set(self.fetched)
        dropped = [i for i in cited if i not in known]
        if dropped:
            conv.record(TraceKind.CHECK, f"dropped {len(dropped)} unknown citation(s)", dropped=dropped)
        return [i for i in cited if i in known]


def _text(message: Any) -> str:
    """What the model answered: its text, or the arguments of its tool calls."""
    if not isinstance(message, AIMessage):
        return str(message)
    if message.tool_calls:
        return json.dumps([{"name": c["name"], "args": c["args"]} for c in message.tool_calls], default=str)
    invalid = getattr(message, "invalid_tool_calls", None)
    if invalid:
        return json.dumps([{"name": c.get("name"), "args": c.get("args")} for c in invalid], default=str)
    return message.content if isinstance(message.content, str) else json.dumps(message.content, default=str)


class Investigator(Generic[A]):
    """Runs investigations with one model, one toolset and one answer schema."""

    def __init__(
        self,
        model: BaseChatModel,
        answer_type: type[A],
        schema: dict[str, Any],
        final_prompt: PromptTemplate,
        *,
        tools: InvestigationTools | None = None,
        method: StructuredMethod = "json_schema",
    ) -> None:
        self._model = model
        self._type = answer_type
        self._schema = schema
        self._tools = tools
        self._method = method
        self._final = final_prompt
        self._repair: PromptTemplate = load_prompt("repair")
        self.tools_refused: str | None = None  # why the server refused tools, once it has

    def wants_tools(self, conv: Conversation) -> bool:
        """Whether this investigation offers tools (configured, budgeted, not refused before)."""
        return self._tools is not None and conv.budget.max_tool_calls > 0 and self.tools_refused is None

    def run(self, conv: Conversation, opening: Opening, local: Sequence[LocalTool] = ()) -> Finding[A]:
        """Investigate and answer; raises `BudgetSpent` or `ReasonerError`."""
        if not self.wants_tools(conv):
            if self.tools_refused is not None and self._tools is not None:
                conv.record(TraceKind.FALLBACK, "one-shot: the server refused tools earlier",
                            reason=self.tools_refused)  # fmt: skip
            return Finding(self._answer(conv, opening(False)), {}, used_tools=False)
        messages = opening(True)
        loop = ToolLoop(self._model, self._tools, local)
        ended = loop.run(conv, messages)
        if ended.end is LoopEnd.UNSUPPORTED or ended.end is LoopEnd.NO_CALLS:
            why = ended.detail or "the model made no tool call"
            if ended.end is LoopEnd.UNSUPPORTED and ended.last_reply is None:
                self.tools_refused = why
            inline = self._inline(ended.last_reply)
            if inline is not None and ended.end is LoopEnd.NO_CALLS:
                conv.record(TraceKind.CHECK, "answered from the opening evidence without tools")
                return Finding(inline, {}, used_tools=False)
            conv.record(
                TraceKind.FALLBACK, f"one-shot without tools: {why}", reason=why, tools_supported=False
            )
            return Finding(self._answer(conv, opening(False)), {}, used_tools=False)
        inline = self._inline(ended.last_reply)
        if inline is not None:
            return Finding(inline, ended.fetched, used_tools=True)
        messages.append(HumanMessage(self._final.render()))
        return Finding(self._answer(conv, messages), ended.fetched, used_tools=True)

    def _inline(self, reply: AIMessage | None) -> A | None:
        """The last reply as an answer, when it already is a valid one (saves a request)."""
        if reply is None or not isinstance(reply.content, str) or not reply.content.strip():
            return None
        text = reply.content.strip()
        fenced = _FENCED_JSON.match(text)
        try:
            return self._type.model_validate_json(fenced.group(1) if fenced else text)
        except (ValidationError, ValueError):
            return None

    def _answer(self, conv: Conversation, messages: list[BaseMessage]) -> A:
        """The structured answer, with one repair retry fed the validation error."""
        structured = self._model.with_structured_output(self._schema, method=self._method, include_raw=True)
        attempt_messages = list(messages)
        for attempt in (1, 2):
            out = conv.invoke(structured, attempt_messages, f"structured answer {attempt}")
            raw = raw_message(out)
            raw_text = _text(raw)
            conv.record(
                TraceKind.ANSWER, f"structured answer, attempt {attempt}", text=raw_text[:TRACE_TEXT_CHARS]
            )
            wanted = {self._schema.get("title")}
            if isinstance(raw, AIMessage) and any(c["name"] not in wanted for c in raw.tool_calls):
                raise BudgetSpent("the model kept calling tools when asked for its answer")
            try:
                return self._validated(out)
            except (ValidationError, ValueError) as exc:
                error = str(exc)
                if attempt == 2:
                    raise conv.fail(
                        ReasonerErrorKind.MALFORMED_OUTPUT, f"invalid after one repair: {error[:500]}"
                    ) from exc
                conv.record(
                    TraceKind.REPAIR, "invalid answer fed back with its validation error", error=error
                )
                previous = untrusted.scrub(raw_text, conv.boundary)
                repair = self._repair.render(boundary=conv.boundary, previous_answer=previous, error=error)
                attempt_messages = [*messages, HumanMessage(repair)]
        raise AssertionError("unreachable")  # pragma: no cover

    def _validated(self, out: Any) -> A:
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
        if isinstance(parsed, self._type):
            return parsed
        return self._type.model_validate(parsed)
