"""The auditor's LLM reviewer through real HTTP against a scripted OpenAI-compatible server: it reads with
the tools, its verdict keeps only citations it was shown or fetched, it never raises, and it
stays behind the LLM gate."""

from __future__ import annotations

import json

from agent.domain import RootCause
from agent.reasoners import LLMGate, LLMReviewer, LoopBudget, ReasonerError, RulesReasoner, build_chat_model
from agent.reasoners.base import TraceKind
from tests.agent import evidence_samples as s
from tests.agent.fake_llm import FakeLLMServer, Turn
from tests.agent.reasoners.conftest import Calls, scripted_tools

LOGS = ("k8s_pod_logs", {"namespace": "shop", "pod": "web-api-1", "previous": True})
CONTRADICTS = {
    "verdict": "contradicts",
    "explanation": "The previous container died of a missing dependency, not memory.",
    "cited_evidence": ["tool:1", "made-up:1"],
    "suspect_commit": "abc1234",
}


def reviewer(server: FakeLLMServer, calls: Calls, gate: LLMGate | None = None) -> LLMReviewer:
    model = build_chat_model("openai", "m", base_url=server.base_url, timeout=5, max_retries=0)
    return LLMReviewer(
        model, tools=scripted_tools(calls), budget=LoopBudget(retries=0), gate=gate or LLMGate()
    )


def diagnosis():
    return RulesReasoner().diagnose(s.incident(), s.oom()).diagnosis


def test_a_review_reads_with_tools_and_keeps_only_known_citations(fake_llm) -> None:
    calls: Calls = []
    server = fake_llm(
        "openai", [Turn(tool_calls=[LOGS]), Turn(text="Let me think."), Turn(answer=CONTRADICTS)]
    )
    review = reviewer(server, calls).review(s.incident(), s.oom(), diagnosis())
    assert review.verdict == "contradicts" and review.backed
    assert review.cited_evidence == ["tool:1"] and review.suspect_commit == "abc1234"
    assert len(calls) == 1 and review.usage.tool_calls == 1
    system, user = (m["content"] for m in server.requests[0]["messages"][:2])
    assert "auditor" in system and "DATA" in system, "the shared untrusted-data rules"
    assert "<<<BEGIN UNTRUSTED DIAGNOSIS" in user and RootCause.OOM.value in user
    last = server.requests[2]
    assert "verdict" in json.dumps(last["messages"][-1]) and "response_format" in last, "auditor_final asked"
    assert any(r.kind is TraceKind.CHECK and r.detail["dropped"] == ["made-up:1"] for r in review.trace)


def test_a_closed_gate_skips_and_a_failure_is_reported_not_raised(fake_llm) -> None:
    server = fake_llm("openai", [Turn(status=500)])
    skipped = reviewer(server, [], LLMGate(allowed=lambda: False)).review(s.incident(), s.oom(), diagnosis())
    assert skipped.verdict == "skipped" and server.requests == []

    failures: list[ReasonerError] = []
    gate = LLMGate(failed=failures.append)
    failed = reviewer(server, [], gate).review(s.incident(), s.oom(), diagnosis())
    assert failed.verdict == "failed" and not failed.backed and len(failures) == 1
