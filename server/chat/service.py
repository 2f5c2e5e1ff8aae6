"""Which answerer a chat request gets, and how an answer becomes SSE events."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any, Protocol

from server.chat.models import Answer
from server.chat.rules_answerer import RulesAnswerer
from server.context import ServerContext

log = logging.getLogger(__name__)
EXTRAS_KEY = "chat_answerer"  # tests and `paramedic serve` may put a ready answerer here
_CHUNK = re.compile(r"\S+\s*|\s+")


class Answerer(Protocol):
    """Anything that answers a question about the stored runs."""

    provider: str

    def answer(self, question: str, *, run_id: str | None = None, incident_id: str | None = None) -> Answer:
        """The answer, with citations of the records it rests on."""
        ...


KUBE_KEY = "kube"  # context.extras: the service's KubeClient, for the agent's read-only cluster tools


def answerer_for(context: ServerContext) -> Answerer:
    """The configured answerer: the rules by default, the tool-calling agent with an LLM."""
    ready = context.extras.get(EXTRAS_KEY)
    if ready is not None:
        return ready
    rules = RulesAnswerer(context.store)
    if context.settings.llm.provider == "rules":
        return rules
    from agent.reasoners.providers import ProviderConfigError
    from server.chat.agent import ChatAgent  # langchain is imported only when an LLM is configured

    try:
        kube = context.extras.get(KUBE_KEY)
        return ChatAgent.from_settings(context.store, context.settings.llm, fallback=rules, kube=kube)
    except ProviderConfigError as exc:  # a chat question is no reason to fail: the rules still answer
        log.warning("chat LLM not usable (%s); answering with the rules", exc)
        return rules


def sse_events(answer: Answer) -> Iterator[dict[str, Any]]:
    """`token` events (word by word, as JSON `{"text": ...}`), then `citations`, then `end`."""
    for chunk in _CHUNK.findall(answer.text):
        yield {"event": "token", "data": json.dumps({"text": chunk})}
    yield {"event": "citations", "data": json.dumps([c.model_dump() for c in answer.citations])}
    yield {"event": "end", "data": json.dumps({"provider": answer.provider, "known": answer.known})}
