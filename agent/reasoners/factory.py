"""Build the configured reasoner (and the auditor's reviewer) from `LLMSettings`.

The LLM side (langchain's chat models, the openai client: over a second of CPU to import) is
imported only when the settings name an LLM provider: the rules provider, the default, never
loads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agent.config import LLMSettings
from agent.reasoners.base import Reasoner
from agent.reasoners.budget import LoopBudget
from agent.reasoners.gate import OPEN_GATE, LLMGate
from agent.reasoners.hybrid import HybridReasoner
from agent.reasoners.rules import RulesReasoner
from tools.investigation import InvestigationTools

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from agent.reasoners.llm import LLMReasoner
    from agent.reasoners.providers import Provider
    from agent.reasoners.review import LLMReviewer


def chat_model(settings: LLMSettings, provider: Provider) -> BaseChatModel:
    """The chat model the settings name. Retries are the tool loop's (each one traced), so the OpenAI
    client's own are off; Ollama gets `num_ctx` sized to the largest prompt the loop may send."""
    from agent.reasoners.providers import build_chat_model

    return build_chat_model(
        provider,
        settings.model,
        base_url=settings.base_url,
        api_key=settings.api_key_value(),
        timeout=settings.timeout_seconds,
        temperature=settings.temperature,
        max_retries=0,
        num_ctx=settings.ollama_num_ctx() if provider == "ollama" else None,
    )


def build_llm_reasoner(
    settings: LLMSettings, provider: Provider, tools: InvestigationTools | None = None
) -> LLMReasoner:
    """An LLM reasoner on `provider` with the settings' model, endpoint, budgets and (if enabled) tools."""
    from agent.reasoners.llm import LLMReasoner

    return LLMReasoner(
        chat_model(settings, provider),
        tools=tools if settings.tools else None,
        budget=LoopBudget.from_settings(settings),
        witty=settings.witty_summary,
    )


def build_reasoner(
    settings: LLMSettings,
    act_threshold: float,
    *,
    tools: InvestigationTools | None = None,
    gate: LLMGate = OPEN_GATE,
) -> Reasoner:
    """The reasoner `settings.provider` names: rules, openai, ollama, or hybrid (rules + `llm_backend`).

    `tools` are the read-only investigation tools the LLM may call; `gate` connects the hybrid
    reasoner to the graph's LLM breaker. Raises ProviderConfigError on unusable settings.
    """
    rules = RulesReasoner(witty=settings.witty_summary)
    provider = settings.llm_provider()
    if provider is None:
        return rules
    llm = build_llm_reasoner(settings, provider, tools)
    if settings.provider != "hybrid":
        return llm
    return HybridReasoner(rules, llm, act_threshold, gate=gate)


def build_reviewer(
    settings: LLMSettings, *, tools: InvestigationTools | None = None, gate: LLMGate = OPEN_GATE
) -> LLMReviewer | None:
    """The auditor's LLM reviewer, or None (rules provider, or `auditor_review` off)."""
    provider = settings.llm_provider()
    if provider is None or not settings.auditor_review:
        return None
    from agent.reasoners.review import LLMReviewer

    return LLMReviewer(
        chat_model(settings, provider),
        tools=tools if settings.tools else None,
        budget=LoopBudget.from_settings(settings),
        gate=gate,
    )
