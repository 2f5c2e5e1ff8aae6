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
from agent.reasoners.budget import LoopBudget
from agent.reasoners.factory import build_llm_reasoner, build_reasoner, build_reviewer
from agent.reasoners.gate import LLMGate
from agent.reasoners.hybrid import HybridReasoner
from agent.reasoners.llm import LLMReasoner
from agent.reasoners.providers import ProviderConfigError, build_chat_model
from agent.reasoners.review import LLMReviewer, Review, Reviewer
from agent.reasoners.rules import RulesReasoner

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
