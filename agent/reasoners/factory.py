"""Build the configured reasoner from `LLMSettings`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.tools import BaseTool

from agent.config import LLMSettings
from agent.reasoners.base import Reasoner, ReasonerError
from agent.reasoners.hybrid import HybridReasoner
from agent.reasoners.llm import LLMReasoner
from agent.reasoners.providers import Provider, build_chat_model
from agent.reasoners.rules import RulesReasoner


def build_llm_reasoner(
    settings: LLMSettings, provider: Provider, tools: Sequence[BaseTool] = ()
) -> LLMReasoner:
    """An LLM reasoner on `provider` with the settings' model, endpoint, key, timeout and tool budget."""
    model = build_chat_model(
        provider,
        settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key_value(),
        timeout=settings.timeout_seconds,
        temperature=settings.temperature,
    )
    return LLMReasoner(
        model, tools=tools, max_tool_calls=settings.max_tool_calls, witty=settings.witty_summary
    )


def build_reasoner(
    settings: LLMSettings,
    act_threshold: float,
    *,
    tools: Sequence[BaseTool] = (),
    llm_allowed: Callable[[], bool] = lambda: True,
    on_llm_error: Callable[[ReasonerError], object] | None = None,
    on_llm_success: Callable[[], object] | None = None,
) -> Reasoner:
    """The reasoner `settings.provider` names: rules, openai, ollama, or hybrid (rules + `llm_backend`).

    `tools` are read-only langchain tools the LLM may call; `llm_allowed` and the callbacks connect
    the hybrid reasoner to the graph's LLM breaker. Raises ProviderConfigError on unusable settings.
    """
    rules = RulesReasoner(witty=settings.witty_summary)
    if settings.provider == "rules":
        return rules
    if settings.provider in ("openai", "ollama"):
        return build_llm_reasoner(settings, settings.provider, tools)
    llm = build_llm_reasoner(settings, settings.llm_backend, tools)
    return HybridReasoner(
        rules,
        llm,
        act_threshold,
        llm_allowed=llm_allowed,
        on_llm_error=on_llm_error,
        on_llm_success=on_llm_success,
    )
