"""The LLM chat agent: a bounded tool-calling loop over the read-only run-store tools.

The model sees the operator's question and every tool result inside untrusted-data fences with
a fresh boundary per question (`agent.reasoners.untrusted`), can call only the tools of
`server.chat.read_tools`, and gets at most `max_tool_calls` calls before it must answer. The answer
cites the records the tools returned that it names by id. When the model cannot be reached,
the rules answerer answers instead, and says so.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.config import LLMSettings
from agent.prompts import load_prompt
from agent.reasoners.providers import build_chat_model
from agent.reasoners.untrusted import fence, new_boundary, scrub
from server.chat.models import Answer, Citation
from server.chat.read_tools import TOOLS, run_chat_tool
from server.runstore import RunStore
from tools.kubernetes import KubeClient

log = logging.getLogger(__name__)
_BUDGET_SPENT = "Tool budget spent: answer now from what the tools returned, or say you do not know."


class ChatAgent:
    """Answers with an LLM that looks facts up through the read-only tools."""

    def __init__(
        self,
        store: RunStore,
        model: BaseChatModel,
        *,
        provider: str,
        max_tool_calls: int = 6,
        fallback: Any = None,
        boundary: Callable[[], str] = new_boundary,
        kube: KubeClient | None = None,
    ) -> None:
        self.provider = provider
        self._store = store
        self._kube = kube
        self._model = model
        self._tools = model.bind_tools([tool.spec() for tool in TOOLS.values()])
        self._max_tool_calls = max_tool_calls
        self._fallback = fallback
        self._boundary = boundary
        self._system = load_prompt("chat_agent_system")
        self._user = load_prompt("chat_agent_user")

    @classmethod
    def from_settings(
        cls, store: RunStore, llm: LLMSettings, *, fallback: Any = None, kube: KubeClient | None = None
    ) -> ChatAgent:
        """The agent on the configured model (`hybrid` uses its `llm_backend`)."""
        provider = llm.llm_backend if llm.provider == "hybrid" else llm.provider
        model = build_chat_model(
            provider,  # type: ignore[arg-type]
            llm.model,
            base_url=llm.base_url,
            api_key=llm.api_key_value(),
            timeout=llm.timeout_seconds,
            temperature=llm.temperature,
        )
        return cls(
            store, model, provider=provider, max_tool_calls=llm.max_tool_calls, fallback=fallback, kube=kube
        )

    def answer(self, question: str, *, run_id: str | None = None, incident_id: str | None = None) -> Answer:
        """Run the tool loop; fall back to the rules when the model fails."""
        try:
            return self._answer(question, run_id=run_id, incident_id=incident_id)
        except Exception as exc:
            log.warning("chat LLM failed, answering with the rules: %s: %s", type(exc).__name__, exc)
            if self._fallback is None:
                raise
            answer = self._fallback.answer(question, run_id=run_id, incident_id=incident_id)
            note = f"(The LLM could not answer: {type(exc).__name__}. This answer comes from the rules.)\n\n"
            return answer.model_copy(update={"text": note + answer.text})

    def _answer(self, question: str, *, run_id: str | None, incident_id: str | None) -> Answer:
        boundary = self._boundary()
        focus = " and ".join(
            f"{kind} {json.dumps(scrub(value, boundary))}"
            for kind, value in (("run", run_id), ("incident", incident_id))
            if value
        )
        messages: list[BaseMessage] = [
            SystemMessage(self._system.render(boundary=boundary, max_tool_calls=self._max_tool_calls)),
            HumanMessage(
                self._user.render(
                    boundary=boundary,
                    question=scrub(json.dumps(question, ensure_ascii=False), boundary),
                    focus=focus,
                )
            ),
        ]
        consulted: list[Citation] = []
        calls = 0
        while True:
            spent = calls >= self._max_tool_calls
            # Once the budget is spent the model is asked without tools, so it has to answer.
            reply = (self._model if spent else self._tools).invoke(messages)
            messages.append(reply)
            tool_calls = getattr(reply, "tool_calls", None) or []
            if spent or not tool_calls:
                break
            for call in tool_calls:
                if calls >= self._max_tool_calls:
                    content = _BUDGET_SPENT
                else:
                    calls += 1
                    result = run_chat_tool(self._store, call["name"], call.get("args"), kube=self._kube)
                    consulted.extend(c for c in result.cites if c not in consulted)
                    content = fence("TOOL-RESULT", result.text(), boundary)
                messages.append(ToolMessage(content=content, tool_call_id=call.get("id") or call["name"]))
        text = _text(reply).strip()
        if not text:
            return Answer(text="I don't know: the model gave no answer.", provider=self.provider, known=False)
        cited = [c for c in consulted if _mentions(text, c.id)]
        return Answer(text=text, citations=cited, provider=self.provider, known=bool(consulted))


def _text(message: AIMessage | BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    parts = [p if isinstance(p, str) else p.get("text", "") for p in content if isinstance(p, str | dict)]
    return "".join(parts)


def _mentions(text: str, record_id: str) -> bool:
    """Whether the answer names `record_id` as a whole token (event 4 is not event 42)."""
    return re.search(rf"(?<![\w-]){re.escape(record_id)}(?![\w-])", text) is not None
