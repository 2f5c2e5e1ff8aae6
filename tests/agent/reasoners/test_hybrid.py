"""The hybrid reasoner: rules first, the LLM below the act threshold, rules when the LLM may not or fails;
and the factory that builds the configured reasoner."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agent.config import LLMSettings
from agent.domain import RootCause
from agent.reasoners import (
    HybridReasoner,
    LLMReasoner,
    ProviderConfigError,
    ReasonerErrorKind,
    RulesReasoner,
    TraceKind,
    build_chat_model,
    build_reasoner,
)
from tests.agent import evidence_samples as s
from tests.agent.fake_llm import Turn

DEP = {
    "category": "dependency_down",
    "explanation": "The app exits after 'shutting down'; its dependency cache is unreachable.",
    "faulty_resource": "Deployment shop/cache",
    "cited_evidence": ["log:web-api-7d9f8c6b5-x2k4p:app:previous"],
    "confidence": 0.6,
    "remediation": {"action": "notify"},
}


def hybrid(server, **kwargs) -> HybridReasoner:
    model = build_chat_model(server.flavour, "m", base_url=server.base_url, timeout=5, max_retries=0)
    return HybridReasoner(RulesReasoner(), LLMReasoner(model), 0.8, **kwargs)


def test_confident_rules_never_call_the_llm(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP)])
    result = hybrid(server).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM
    assert server.requests == [] and result.usage.model_calls == 0
    assert result.reasoner == "hybrid"


def test_unsure_rules_ask_the_llm_and_take_the_more_confident_answer(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP, input_tokens=70, output_tokens=8)])
    successes: list[bool] = []
    result = hybrid(server, on_llm_success=lambda: successes.append(True)).diagnose(
        s.incident(), s.generic_crash()
    )
    assert result.diagnosis.category is RootCause.DEPENDENCY_DOWN  # 0.6 beats the rules' 0.3
    assert (result.usage.model_calls, result.usage.input_tokens) == (1, 70)
    assert successes == [True]
    kinds = [r.kind for r in result.trace]
    assert TraceKind.RULE in kinds and TraceKind.PROMPT in kinds and kinds[-1] is TraceKind.FALLBACK


def test_a_less_confident_llm_does_not_override_the_rules(fake_llm) -> None:
    server = fake_llm("ollama", [Turn(answer={**DEP, "confidence": 0.2})])
    result = hybrid(server).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.UNKNOWN and result.diagnosis.confidence == 0.3
    assert result.usage.model_calls == 1


def test_open_breaker_keeps_the_rules_answer(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP)])
    result = hybrid(server, llm_allowed=lambda: False).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.UNKNOWN
    assert server.requests == []
    assert "breaker" in result.trace[-1].summary


def test_llm_failure_falls_back_to_rules_and_is_reported(fake_llm) -> None:
    server = fake_llm("openai", [Turn(text="nope"), Turn(text="still nope")])
    errors = []
    result = hybrid(server, on_llm_error=errors.append).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.UNKNOWN
    assert [e.kind for e in errors] == [ReasonerErrorKind.MALFORMED_OUTPUT]
    assert result.usage.model_calls == 2  # the failed attempts still cost
    assert any(r.kind is TraceKind.REPAIR for r in result.trace)


def test_factory_builds_the_configured_reasoner() -> None:
    assert isinstance(build_reasoner(LLMSettings(), 0.8), RulesReasoner)
    openai = build_reasoner(LLMSettings(provider="openai", api_key=SecretStr("sk-test")), 0.8)
    assert isinstance(openai, LLMReasoner)
    ollama = build_reasoner(
        LLMSettings(provider="ollama", model="llama3.1", base_url="http://127.0.0.1:1"), 0.8
    )
    assert isinstance(ollama, LLMReasoner)
    both = build_reasoner(LLMSettings(provider="hybrid", llm_backend="ollama", model="llama3.1"), 0.7)
    assert isinstance(both, HybridReasoner)
    with pytest.raises(ProviderConfigError, match="api_key"):
        build_reasoner(LLMSettings(provider="openai"), 0.8)
    with pytest.raises(ValueError, match="act_threshold"):
        HybridReasoner(RulesReasoner(), RulesReasoner(), 1.5)


def test_factory_wires_the_settings_through_to_the_endpoint(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP)])
    settings = LLMSettings(provider="hybrid", model="my-model", base_url=server.base_url, temperature=0.3)
    result = build_reasoner(settings, 0.8).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.DEPENDENCY_DOWN
    assert server.requests[0]["model"] == "my-model" and server.requests[0]["temperature"] == 0.3
