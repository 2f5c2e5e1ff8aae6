"""Reasoners: the offline rules engine, the LLM reasoner and the hybrid of both.

Call `build_reasoner(settings.llm, settings.thresholds.act, ...)` and then
`reasoner.diagnose(incident, evidence) -> ReasonerResult`; failures raise `ReasonerError`.

The names are imported on first use (PEP 562): `agent.trace` needs only `agent.reasoners.base`,
and importing the package must not load the LLM clients (openai, langchain) into every process
that writes a trace event, such as a worker appending to the run store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agent.reasoners.base import (
        Reasoner,
        ReasonerError,
        ReasonerErrorKind,
        ReasonerResult,
        TraceKind,
        TraceRecord,
    )
    from agent.reasoners.budget import LoopBudget
    from agent.reasoners.factory import build_llm_reasoner, build_reasoner, build_reviewer
    from agent.reasoners.gate import LLMGate
    from agent.reasoners.hybrid import HybridReasoner
    from agent.reasoners.llm import LLMReasoner
    from agent.reasoners.providers import ProviderConfigError, build_chat_model
    from agent.reasoners.review import LLMReviewer, Review, Reviewer
    from agent.reasoners.rules import RulesReasoner

# Each public name and the module that defines it.
_HOMES = {
    "Reasoner": "base",
    "ReasonerError": "base",
    "ReasonerErrorKind": "base",
    "ReasonerResult": "base",
    "TraceKind": "base",
    "TraceRecord": "base",
    "LoopBudget": "budget",
    "build_llm_reasoner": "factory",
    "build_reasoner": "factory",
    "build_reviewer": "factory",
    "LLMGate": "gate",
    "HybridReasoner": "hybrid",
    "LLMReasoner": "llm",
    "ProviderConfigError": "providers",
    "build_chat_model": "providers",
    "LLMReviewer": "review",
    "Review": "review",
    "Reviewer": "review",
    "RulesReasoner": "rules",
}

__all__ = [
    "HybridReasoner",
    "LLMGate",
    "LLMReasoner",
    "LLMReviewer",
    "LoopBudget",
    "ProviderConfigError",
    "Reasoner",
    "ReasonerError",
    "ReasonerErrorKind",
    "ReasonerResult",
    "Review",
    "Reviewer",
    "RulesReasoner",
    "TraceKind",
    "TraceRecord",
    "build_chat_model",
    "build_llm_reasoner",
    "build_reasoner",
    "build_reviewer",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
