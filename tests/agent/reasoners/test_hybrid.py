"""The hybrid reasoner: rules first, the LLM below the act threshold, arbitration on fetched evidence,
rules alone when the LLM breaker is open or the LLM fails; and the factory that builds it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

# The LLM side (langchain, openai: seconds to import) is reached through the lazy package at call
# time, so a test process that collects this module but runs none of its LLM tests never loads it.
from agent import reasoners
from agent.config import LLMSettings
from agent.domain import RootCause
from agent.reasoners import (
    HybridReasoner,
    LLMGate,
    LoopBudget,
    ReasonerError,
    ReasonerErrorKind,
    RulesReasoner,
    TraceKind,
)
from agent.reasoners.hybrid import arbitrate
from tests.agent import evidence_samples as s
from tests.agent.fake_llm import FakeLLMServer, Turn
from tests.agent.reasoners.conftest import Calls, scripted_tools

PREVIOUS_LOG = "log:web-api-7d9f8c6b5-x2k4p:app:previous"
DEP = {
    "category": "dependency_down",
    "explanation": "The app exits after 'shutting down'; its dependency cache is unreachable.",
    "faulty_resource": "Deployment shop/cache",
    "cited_evidence": [PREVIOUS_LOG],
    "confidence": 0.6,
    "remediation": {"action": "notify"},
}
FETCHED_DEP = {**DEP, "cited_evidence": ["tool:1", PREVIOUS_LOG]}
READ_LOGS = ("k8s_pod_logs", {"namespace": "shop", "pod": "web-api-1", "previous": True})


class Gate:
    """An LLM gate that records what the hybrid reasoner told it."""

    def __init__(self, allowed: bool = True) -> None:
        self.open = allowed
        self.errors: list[ReasonerError] = []
        self.successes = 0

    def gate(self) -> LLMGate:
        def succeeded() -> None:
            self.successes += 1

        return LLMGate(allowed=lambda: self.open, failed=self.errors.append, succeeded=succeeded)


def hybrid(server: FakeLLMServer, act: float = 0.8, gate: LLMGate | None = None, **kw: Any) -> HybridReasoner:
    model = reasoners.build_chat_model(
        server.flavour, "m", base_url=server.base_url, timeout=5, max_retries=0
    )
    calls: Calls = []
    llm = reasoners.LLMReasoner(model, tools=scripted_tools(calls), budget=LoopBudget(**kw))
    return HybridReasoner(RulesReasoner(), llm, act, gate=gate or LLMGate())


def fallback_note(result: Any) -> Any:
    return [r for r in result.trace if r.kind is TraceKind.FALLBACK][-1]


def test_confident_rules_never_call_the_llm(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP)])
    result = hybrid(server).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM
    assert server.requests == [] and result.usage.model_calls == 0
    assert result.reasoner == "hybrid" and result.side() == "rules"


def test_rules_unknown_and_a_model_backed_by_fetched_evidence_takes_the_models(fake_llm) -> None:
    server = fake_llm("openai", [Turn(tool_calls=[READ_LOGS]), Turn(answer=FETCHED_DEP, input_tokens=70)])
    watcher = Gate()
    result = hybrid(server, gate=watcher.gate()).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.DEPENDENCY_DOWN and result.side() == "llm"
    assert result.usage.model_calls == 2 and result.usage.tool_calls == 1
    assert watcher.successes == 1 and watcher.errors == []
    note = fallback_note(result)
    assert "backed by evidence it fetched (tool:1)" in note.summary and note.detail["chosen"] == "llm"
    kinds = [r.kind for r in result.trace]
    assert TraceKind.RULE in kinds and TraceKind.TOOL_CALL in kinds


@pytest.mark.parametrize("flavour", ["openai", "ollama"])
def test_rules_unknown_and_an_unbacked_model_leaves_unknown(fake_llm, flavour) -> None:
    server = fake_llm(flavour, [Turn(answer=DEP)])  # answers at once, citing only the opening
    result = hybrid(server).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.UNKNOWN and result.side() == "rules"
    assert "cites no evidence it fetched" in fallback_note(result).summary
    assert result.usage.model_calls == 1


def test_a_firing_rule_stands_unless_fetched_evidence_contradicts_it(fake_llm) -> None:
    # act threshold above the OOM rule's confidence, so the model is asked although a rule fired
    unbacked = fake_llm("openai", [Turn(answer=DEP)])
    kept = hybrid(unbacked, act=0.999).diagnose(s.incident(), s.oom())
    assert kept.diagnosis.category is RootCause.OOM and kept.side() == "rules"
    assert "without evidence it fetched: the rule stands" in fallback_note(kept).summary

    backed = fake_llm("openai", [Turn(tool_calls=[READ_LOGS]), Turn(answer=FETCHED_DEP)])
    overruled = hybrid(backed, act=0.999).diagnose(s.incident(), s.oom())
    assert overruled.diagnosis.category is RootCause.DEPENDENCY_DOWN and overruled.side() == "llm"
    assert "contradicts it (tool:1)" in fallback_note(overruled).summary


def test_arbitration_is_a_pure_choice() -> None:
    rules = RulesReasoner().diagnose(s.incident(), s.oom()).diagnosis
    unknown = RulesReasoner().diagnose(s.incident(), s.generic_crash()).diagnosis
    model = rules.model_copy(update={"category": RootCause.DEPENDENCY_DOWN, "cited_evidence": ["tool:2"]})
    assert arbitrate(rules, model)[0] == "llm"
    assert arbitrate(rules, model.model_copy(update={"cited_evidence": ["status:x"]}))[0] == "rules"
    assert arbitrate(unknown, model)[0] == "llm"
    assert arbitrate(rules, model.model_copy(update={"category": RootCause.UNKNOWN}))[0] == "rules"
    assert arbitrate(rules, rules.model_copy(update={"cited_evidence": ["tool:1"]}))[0] == "rules"


def test_an_open_llm_breaker_keeps_the_rules_answer(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=DEP)])
    result = hybrid(server, act=0.999, gate=Gate(allowed=False).gate()).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM, "the rules still answer"
    assert server.requests == []
    assert "breaker" in result.trace[-1].summary


@pytest.mark.parametrize("flavour", ["openai", "ollama"])
def test_llm_failure_falls_back_to_rules_and_is_reported(fake_llm, flavour) -> None:
    server = fake_llm(flavour, [Turn(status=500), Turn(status=500)])
    watcher = Gate()
    result = hybrid(server, gate=watcher.gate(), retries=0).diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.UNKNOWN
    assert [e.kind for e in watcher.errors] == [ReasonerErrorKind.UNAVAILABLE] and watcher.successes == 0
    assert result.usage.model_calls == 1  # the failed attempt still costs
    assert "LLM failed (unavailable)" in fallback_note(result).summary


def test_factory_builds_the_configured_reasoner() -> None:
    assert isinstance(reasoners.build_reasoner(LLMSettings(), 0.8), RulesReasoner)
    openai = reasoners.build_reasoner(LLMSettings(provider="openai", api_key=SecretStr("sk-test")), 0.8)
    assert isinstance(openai, reasoners.LLMReasoner)
    ollama = reasoners.build_reasoner(
        LLMSettings(provider="ollama", model="llama3.1", base_url="http://127.0.0.1:1"), 0.8
    )
    assert isinstance(ollama, reasoners.LLMReasoner)
    both = reasoners.build_reasoner(
        LLMSettings(provider="hybrid", llm_backend="ollama", model="llama3.1"), 0.7
    )
    assert isinstance(both, HybridReasoner)
    with pytest.raises(reasoners.ProviderConfigError, match="api_key"):
        reasoners.build_reasoner(LLMSettings(provider="openai"), 0.8)
    with pytest.raises(ValueError, match="act_threshold"):
        HybridReasoner(RulesReasoner(), RulesReasoner(), 1.5)


def test_factory_wires_the_settings_through_to_the_endpoint(fake_llm) -> None:
    calls: Calls = []
    server = fake_llm("openai", [Turn(tool_calls=[READ_LOGS]), Turn(answer=FETCHED_DEP)])
    settings = LLMSettings(provider="hybrid", model="my-model", base_url=server.base_url, temperature=0.3)
    reasoner = reasoners.build_reasoner(settings, 0.8, tools=scripted_tools(calls))
    result = reasoner.diagnose(s.incident(), s.generic_crash())
    assert result.diagnosis.category is RootCause.DEPENDENCY_DOWN and len(calls) == 1
    first = server.requests[0]
    assert first["model"] == "my-model" and first["temperature"] == 0.3
    assert {t["function"]["name"] for t in first["tools"]} >= {"k8s_pod_logs", "evidence_item"}
    off = LLMSettings(provider="openai", api_key=SecretStr("k"), base_url=server.base_url, tools=False)
    assert isinstance(reasoners.build_reasoner(off, 0.8, tools=scripted_tools(calls)), reasoners.LLMReasoner)
