"""Reasoners: the offline rules engine, the LLM reasoner and the hybrid of both.

Call `build_reasoner(settings.llm, settings.thresholds.act, ...)` and then
`reasoner.diagnose(incident, evidence) -> ReasonerResult`; failures raise `ReasonerError`.
"""

from agent.reasoners.base import (
    Reasoner,
    ReasonerError,
    ReasonerErrorKind,
    ReasonerResult,
    TraceKind,
    TraceRecord,
)
from agent.reasoners.factory import build_llm_reasoner, build_reasoner
from agent.reasoners.hybrid import HybridReasoner
from agent.reasoners.llm import LLMReasoner
from agent.reasoners.providers import ProviderConfigError, build_chat_model
from agent.reasoners.rules import RulesReasoner

__all__ = [
    "HybridReasoner",
    "LLMReasoner",
    "ProviderConfigError",
    "Reasoner",
    "ReasonerError",
    "ReasonerErrorKind",
    "ReasonerResult",
    "RulesReasoner",
    "TraceKind",
    "TraceRecord",
    "build_chat_model",
    "build_llm_reasoner",
    "build_reasoner",
]
