"""The healing graph as `paramedic run` and `paramedic serve` compose it (`build_context` from settings)
with an LLM provider, on the sandbox: the model is offered the read-only tools, its calls run
against the cluster, every call is a trace event (tool, arguments, redacted result summary,
duration, tokens), the analyst's usage note carries exactly the calls and tokens the server handed
out (what `paramedic eval` sums into its report: paramedic/eval_agent.py), and a model that never
stops calling tools ends escalated within the budget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import SecretStr

from agent.config import ClusterSettings, GitSettings, LLMSettings, Mode, Settings
from agent.domain import Incident, Trigger, WorkloadRef, fingerprint
from agent.reasoners import LLMReasoner
from agent.trace import TraceEvent, TraceEventType
from graph.breaker import InMemoryBreakerStore
from graph.builder import compile_graph
from graph.context_factory import build_context
from graph.nodes.analyst import USAGE_NOTE
from graph.runner import HealingApp, RunResult, start_run
from sandbox.cluster import Sandbox
from tests.agent.fake_llm import FakeLLMServer, Turn
from tests.evals.scripted_model import investigating_model
from tools.kubernetes import KubeClient

pytestmark = pytest.mark.slow
TARGET = WorkloadRef(namespace="shop", name="web-api")
DESCRIBE = ("k8s_describe", {"kind": "Deployment", "namespace": "shop", "name": "web-api"})


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sb", seed=11, background=False) as sb:
        sb.wait_healthy(timeout=30)
        yield sb


def _run(sb: Sandbox, llm: LLMSettings, tmp_path: Path) -> tuple[RunResult, list[TraceEvent]]:
    settings = Settings(
        mode=Mode.AUTONOMOUS,
        data_dir=tmp_path / "data",
        cluster=ClusterSettings(kubeconfig=sb.kubeconfig_path),
        git=GitSettings(provider="local", local_path=sb.repo_path, auto_merge=True),
        llm=llm,
    )
    kube = KubeClient.from_config(str(sb.kubeconfig_path))

    def clock() -> datetime:
        return datetime.fromtimestamp(sb.clock.time(), UTC)

    context = build_context(settings, kube=kube, breaker_store=InMemoryBreakerStore(), clock=clock,
                            sleep=sb.advance)  # fmt: skip
    assert isinstance(context.reasoner, LLMReasoner)
    incident = Incident(
        id="inc", fingerprint=fingerprint(TARGET, "x"), target=TARGET, trigger=Trigger.MANUAL, reason="crash"
    )
    events: list[TraceEvent] = []
    try:
        app = HealingApp(compile_graph(InMemorySaver()), context)
        return start_run(app, "run-tools", incident, events.append), events
    finally:
        kube.close()


def _tool_events(events: list[TraceEvent]) -> list[dict[str, Any]]:
    return [
        e.payload["detail"]
        for e in events
        if e.type is TraceEventType.TOOL_CALL and e.payload.get("kind") == "tool_call"
    ]


@pytest.mark.parametrize("provider", ["openai", "ollama"])
def test_the_model_investigates_the_cluster_with_read_only_tools(sandbox, tmp_path, provider) -> None:
    sandbox.inject("oom", "shop/deploy/web-api")
    sandbox.advance(120)
    with FakeLLMServer(provider, responder=investigating_model) as server:
        llm = LLMSettings(
            provider=provider, model="scripted", base_url=server.base_url, api_key=SecretStr("k")
        )
        result, events = _run(sandbox, llm, tmp_path)
        requests = list(server.requests)
    offered = {t["function"]["name"] for t in requests[0]["tools"]}
    assert {"k8s_describe", "k8s_pod_logs", "k8s_config_keys", "git_commit_diff"} <= offered
    assert "prom_query" not in offered, "no Prometheus configured: its tools are not offered"
    assert not {n for n in offered if any(w in n for w in ("delete", "patch", "scale", "restart", "apply"))}
    calls = _tool_events(events)
    assert [c["tool"] for c in calls] == ["k8s_describe", "k8s_events"]
    for call in calls:
        assert call["status"] == "ok" and call["arguments"]["name"] == "web-api"
        assert call["result_summary"] and call["duration_ms"] >= 0 and call["tokens"] > 0
    fed = [m["content"] for m in requests[1]["messages"] if m["role"] == "tool"]
    assert "OOMKilled" in "".join(fed), "the describe read the real cluster"
    diagnosis = result.state["diagnoses"][-1]["diagnosis"]
    assert diagnosis["category"] == "oom" and "tool:1" in diagnosis["cited_evidence"]
    # Token accounting over each provider's wire protocol: the scripted model is a pure function
    # of the request, so replaying the recorded requests gives the counts the server reported.
    turns = [investigating_model(r) for r in requests]
    noted = [e.payload["usage"] for e in events if e.type is TraceEventType.NOTE and e.summary == USAGE_NOTE]
    assert sum(u["model_calls"] for u in noted) == len(requests) >= 2
    assert sum(u["input_tokens"] for u in noted) == sum(t.input_tokens for t in turns)
    assert sum(u["output_tokens"] for u in noted) == sum(t.output_tokens for t in turns)
    if provider == "ollama":
        for request in requests:
            size = len(json.dumps(request["messages"])) + len(json.dumps(request.get("tools") or []))
            assert request["options"]["num_ctx"] >= size // 3, "the window holds the whole prompt"


def test_a_model_that_loops_twenty_turns_ends_escalated_not_crashed(sandbox, tmp_path) -> None:
    sandbox.inject("oom", "shop/deploy/web-api")
    sandbox.advance(120)
    with FakeLLMServer("openai", [Turn(tool_calls=[DESCRIBE]) for _ in range(20)]) as server:
        llm = LLMSettings(provider="openai", model="loop", base_url=server.base_url, api_key=SecretStr("k"),
                          max_turns=10, max_tool_calls=50)  # fmt: skip
        result, events = _run(sandbox, llm, tmp_path)
        asked = len(server.requests)
    assert asked <= 10, "stopped within the turn budget"
    assert result.outcome == "escalated" and result.state["decision"]["route"] == "escalate"
    assert result.state["diagnoses"][-1]["diagnosis"]["category"] == "unknown"
    assert len(_tool_events(events)) >= asked - 1, "the partial trace is kept"
    (budget,) = [e for e in events if e.payload.get("kind") == "budget"]
    assert "budget spent" in budget.summary and budget.payload["detail"]["spent"]["turns"] == asked
