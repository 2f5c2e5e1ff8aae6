"""An OpenAI-compatible model whose every answer is a function of the request, in reply vocabulary.

`ScriptedModel(policy)` is `tests.agent.fake_llm.FakeLLMServer` with a responder that asks
`policy(body)` for a `Text`, `ToolCalls` or `Structured` reply, so several clients (the analyst,
the chat agent) can share it in any order; the server keeps every request body exactly as it
arrived (`raw`, `sent()`), for assertions on what left the process. A `Structured` answer is
delivered the way the client asked for it: as message content for `response_format`, as a call of
the forced tool for function calling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.agent.fake_llm import FakeLLMServer, Turn, forced_tool


@dataclass(frozen=True)
class Text:
    """A plain text answer (the chat agent's final answer)."""

    text: str


@dataclass(frozen=True)
class ToolCalls:
    """Calls of the tools the request offered: (name, arguments)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Structured:
    """A structured answer (the analyst's diagnosis), as JSON."""

    answer: dict[str, Any]


Reply = Text | ToolCalls | Structured
Policy = Callable[[dict[str, Any]], Reply]


def offered_tools(body: dict[str, Any]) -> list[str]:
    """The names of the tools a request offers the model."""
    return [t.get("function", {}).get("name", "") for t in body.get("tools") or []]


def wants_structured(body: dict[str, Any]) -> bool:
    """True when the request asks for a structured answer (response_format or a forced tool)."""
    return "response_format" in body or forced_tool(body) is not None


def has_tool_results(body: dict[str, Any]) -> bool:
    """True when the conversation already holds a tool result."""
    return any(m.get("role") == "tool" for m in body.get("messages") or [])


def as_turn(reply: Reply) -> Turn:
    """The fake server's turn for a reply."""
    if isinstance(reply, Structured):
        return Turn(answer=reply.answer)
    if isinstance(reply, ToolCalls):
        return Turn(tool_calls=list(reply.calls))
    return Turn(text=reply.text)


class ScriptedModel(FakeLLMServer):
    """The OpenAI-compatible fake server answering by `policy`; use as a context manager."""

    def __init__(self, policy: Policy) -> None:
        super().__init__("openai", responder=lambda body: as_turn(policy(body)))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """Every request body received so far, parsed."""
        return self.requests

    def __enter__(self) -> ScriptedModel:
        super().__enter__()
        return self
