"""What the analyst (`llm.LLMReasoner`) and the auditor's reviewer (`review.LLMReviewer`) share: a chat
model in one role, investigating the evidence with the read-only tools and `evidence_item` under a
budget, with the role's prompts and answer schema. Each role writes its own opening and judges its
own answer."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypedDict

from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel, ConfigDict, Field

from agent.domain import Evidence
from agent.prompts import PromptTemplate
from agent.reasoners import untrusted
from agent.reasoners.budget import LoopBudget
from agent.reasoners.conversation import Conversation
from agent.reasoners.investigator import A, Finding, Investigator, Opening, StructuredMethod
from agent.reasoners.tool_loop import LocalTool
from tools.investigation import InvestigationTools, ToolOutcome
from tools.investigation.outcome import cap_text, compact_json
from tools.redaction import redact_data
from tools.result import ToolStatus

EVIDENCE_TOOL = "evidence_item"


class _ItemArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=300)


def evidence_tool(evidence: Evidence, max_chars: int = 6_000) -> LocalTool:
    """`evidence_item`: one gathered item in full, e.g. one the opening left out (no I/O)."""
    by_id = {item.id: item for item in evidence.items}
    spec = {
        "type": "function",
        "function": {
            "name": EVIDENCE_TOOL,
            "description": "A gathered evidence item in full, by its id (e.g. one listed as not shown).",
            "parameters": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
        },
    }

    def run(arguments: Any) -> ToolOutcome:
        started = time.monotonic()
        args_seen = arguments if isinstance(arguments, dict) else {"(raw)": str(arguments)[:300]}
        try:
            wanted = _ItemArgs.model_validate(arguments).id
        except ValueError as exc:
            return ToolOutcome.failed(EVIDENCE_TOOL, args_seen, ToolStatus.ERROR, f"invalid arguments: {exc}")
        item = by_id.get(wanted)
        if item is None:
            missing = f"no evidence item {wanted!r}; ids look like {', '.join(list(by_id)[:5])}"
            return ToolOutcome.failed(EVIDENCE_TOOL, args_seen, ToolStatus.ERROR, missing)
        content = redact_data(item.model_dump(mode="json"))
        text, cut = cap_text(compact_json(content), max_chars)
        elapsed = round((time.monotonic() - started) * 1000, 1)
        return ToolOutcome(EVIDENCE_TOOL, args_seen, ToolStatus.OK, content, item.id, elapsed, text, cut)

    return LocalTool(EVIDENCE_TOOL, spec, run)


class ChatOptions(TypedDict, total=False):
    """What every role may be given besides its model: none of it is required (no tools, the default
    budget, JSON-schema answers, the real clock and sleep)."""

    tools: InvestigationTools | None
    budget: LoopBudget | None
    structured_method: StructuredMethod
    clock: Callable[[], float]
    sleep: Callable[[float], None]


@dataclass(frozen=True)
class Role(Generic[A]):
    """What makes a role: the structured answer it gives (and that answer's JSON schema), its system
    and user messages, and its request for the final answer."""

    answer: type[A]
    schema: dict[str, Any]
    system: PromptTemplate
    user: PromptTemplate
    final: PromptTemplate


class ChatRole(Generic[A]):
    """A chat model in one `Role`."""

    name: str  # the reasoner named in the trace

    def __init__(self, model: BaseChatModel, role: Role[A], options: ChatOptions) -> None:
        tools = options.get("tools")
        method = options.get("structured_method", "json_schema")
        self.budget = options.get("budget") or LoopBudget()
        self._investigator = Investigator(
            model, role.answer, role.schema, role.final, tools=tools, method=method
        )
        self._tools = tools
        self._clock = options.get("clock", time.monotonic)
        self._sleep = options.get("sleep", time.sleep)
        self._system = role.system
        self._user = role.user

    def _conversation(self) -> Conversation:
        """A new investigation, its untrusted text fenced by a fresh boundary."""
        return Conversation(
            self.name, self.budget, untrusted.new_boundary(), clock=self._clock, sleep=self._sleep
        )

    def _investigate(self, conv: Conversation, opening: Opening, evidence: Evidence) -> Finding[A]:
        """The answer after investigating from `opening`; raises `BudgetSpent` or `ReasonerError`."""
        return self._investigator.run(conv, opening, [evidence_tool(evidence)])

    def _offered(self, with_tools: bool) -> list[str]:
        """The tools an opening offers the model: none without tools (the one-shot opening)."""
        return [*self._tools.names(), EVIDENCE_TOOL] if self._tools is not None and with_tools else []
