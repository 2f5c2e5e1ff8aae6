"""The LLM breaker as the composition root wires it (`context_factory.llm_gate`): hybrid counts only LLM
failures on it, opens after N consecutive ones, keeps answering with its rules while open, probes
once after the cool-off, and closes on a good answer; the analyst's reasoner breaker never trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from agent.config import BreakerSettings
from agent.domain import RootCause
from agent.reasoners import HybridReasoner, LLMReasoner, LoopBudget, RulesReasoner, build_chat_model
from graph.breaker import LLM_KEY, REASONER_KEY, BreakerStatus, InMemoryBreakerStore
from graph.context import Breakers
from graph.context_factory import llm_gate
from tests.agent import evidence_samples as s
from tests.agent.fake_llm import FakeLLMServer, Turn

LIMIT, COOL_OFF = 3, 60
ANSWER = {
    "category": "dependency_down",
    "explanation": "The app exits after losing its cache.",
    "faulty_resource": "Deployment shop/cache",
    "confidence": 0.6,
    "remediation": {"action": "notify"},
}


def test_the_llm_breaker_opens_after_n_failures_degrades_to_rules_and_probes_after_the_cool_off() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    breakers = Breakers.create(
        BreakerSettings(llm_failure_limit=LIMIT, llm_cooldown_seconds=COOL_OFF), InMemoryBreakerStore(),
        lambda: now[0],
    )  # fmt: skip
    turns = [Turn(status=500) for _ in range(LIMIT)] + [Turn(answer=ANSWER)]
    with FakeLLMServer("openai", turns) as server:
        model = build_chat_model("openai", "m", base_url=server.base_url, timeout=5, max_retries=0)
        llm = LLMReasoner(model, budget=LoopBudget(retries=0))
        hybrid = HybridReasoner(RulesReasoner(), llm, 0.8, gate=llm_gate(breakers))
        results = [hybrid.diagnose(s.incident(), s.generic_crash()) for _ in range(LIMIT + 2)]
        assert len(server.requests) == LIMIT, "after N consecutive failures the LLM is not asked"
        assert breakers.reasoner.view(LLM_KEY).status is BreakerStatus.OPEN
        assert breakers.reasoner.view(REASONER_KEY).status is BreakerStatus.CLOSED, "rules still answer"
        assert all(r.diagnosis.category is RootCause.UNKNOWN for r in results)
        assert "breaker is open" in results[-1].trace[-1].summary

        # a confident rule answers without the LLM: it neither probes nor resets the breaker
        assert hybrid.diagnose(s.incident(), s.oom()).diagnosis.category is RootCause.OOM
        assert breakers.reasoner.view(LLM_KEY).status is BreakerStatus.OPEN

        now[0] += timedelta(seconds=COOL_OFF + 1)
        assert breakers.reasoner.view(LLM_KEY).status is BreakerStatus.HALF_OPEN
        probe = hybrid.diagnose(s.incident(), s.generic_crash())
        assert len(server.requests) == LIMIT + 1 and probe.usage.model_calls == 1
        assert breakers.reasoner.view(LLM_KEY).status is BreakerStatus.CLOSED
