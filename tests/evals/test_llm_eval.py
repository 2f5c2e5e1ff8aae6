"""`paramedic eval --provider openai` against a scripted tool-calling model over sandbox
scenarios: the model's reads run against the scenario's cluster, and the report gives the largest
prompt per incident (median, goal <= 6k tokens) and tool calls per incident (the hybrid's
arbitration tally is read from the trace: tests/evals/test_llm_scores.py). The same run checks the
token accounting end to end: the report's model calls, tokens and cost are exactly what the server
handed out and what the configured prices make of them (the Ollama wire protocol gets its own run
in tests/evals/test_llm_providers.py)."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.config import LLMSettings
from paramedic import eval_sandbox
from paramedic.cli.main import app
from tests.agent.fake_llm import FakeLLMServer
from tests.evals.scripted_model import investigating_model

os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")
pytestmark = [pytest.mark.integration, pytest.mark.slow]
# One scenario: the model must read the cluster to get it right (OOMKilled is in the pod status, the
# scripted model answers from what its tools returned). A second scenario would add a whole eval run
# (~10 CPU-s) and nothing this test checks.
SCENARIOS = ["dev-oom-web-api"]
PRICE_IN, PRICE_OUT = 0.5, 2.0  # USD per million tokens
# Simulated seconds per wall second of the scenario's sandbox: twice `paramedic eval`'s 30x. The agent
# decides on simulated time and on its watcher having caught up (paramedic.eval_quiet), never on wall
# time, so a faster clock shortens the waits (quiet window, settle, soak), not what the run does.
TIME_FACTOR = 60.0


def _eval(
    provider: str, scenarios: list[str], tmp_path: Path, monkeypatch
) -> tuple[dict[str, Any], str, list]:
    monkeypatch.setattr(
        eval_sandbox, "SandboxTestbed", partial(eval_sandbox.SandboxTestbed, time_factor=TIME_FACTOR)
    )
    with FakeLLMServer("openai", responder=investigating_model) as server:
        monkeypatch.setenv("PARAMEDIC_LLM__BASE_URL", server.base_url)
        monkeypatch.setenv("PARAMEDIC_LLM__MODEL", "scripted")
        monkeypatch.setenv("PARAMEDIC_LLM__API_KEY", "sk-test")
        monkeypatch.setenv("PARAMEDIC_LLM__LLM_BACKEND", "openai")
        monkeypatch.setenv("PARAMEDIC_LLM__PRICE_PER_MILLION_INPUT_TOKENS", str(PRICE_IN))
        monkeypatch.setenv("PARAMEDIC_LLM__PRICE_PER_MILLION_OUTPUT_TOKENS", str(PRICE_OUT))
        args = [
            "eval",
            "--provider",
            provider,
            "--split",
            "dev",
            "--out",
            str(tmp_path),
            "--time-budget",
            "150",
        ]
        for scenario in scenarios:
            args += ["--scenario", scenario]
        result = CliRunner().invoke(app, args)
        requests = list(server.requests)
    assert result.exit_code == 0, result.output
    (results,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    return json.loads((results / "report.json").read_text()), (results / "report.md").read_text(), requests


def test_an_openai_eval_investigates_with_tools_and_reports_prompt_size_and_tool_calls(tmp_path, monkeypatch):
    report, markdown, requests = _eval("openai", SCENARIOS, tmp_path, monkeypatch)
    assert any(r.get("tools") for r in requests), "the model was offered the read-only tools"
    offered = {t["function"]["name"] for r in requests for t in r.get("tools") or []}
    assert "k8s_describe" in offered and not offered & {"k8s_delete", "patch", "scale", "restart"}
    fed = [m["content"] for r in requests for m in r["messages"] if m["role"] == "tool"]
    assert any('"status":"ok"' in f and "web-api" in f for f in fed), "real reads came back"
    overall = report["overall"]
    assert report["run"]["provider"] == "openai" and report["run"]["model"] == "scripted"
    # token accounting: the scripted model is a pure function of the request, so replaying the
    # recorded requests gives exactly the counts the server reported
    turns = [investigating_model(r) for r in requests]
    tokens_in, tokens_out = sum(t.input_tokens for t in turns), sum(t.output_tokens for t in turns)
    assert overall["model_calls"] == len(requests) >= 1
    assert (overall["input_tokens"], overall["output_tokens"]) == (tokens_in, tokens_out)
    assert overall["cost_usd"] == pytest.approx((tokens_in * PRICE_IN + tokens_out * PRICE_OUT) / 1e6)
    assert overall["unsafe_actions"] == 0
    prompt, calls = overall["prompt_tokens_per_incident"], overall["tool_calls_per_incident"]
    # reported, and within the window the loop enforces (the 6k goal is measured, not asserted:
    # docs/llm.md gives the figure)
    assert prompt["n"] >= 1 and 0 < prompt["p50"] <= LLMSettings().context_tokens, prompt
    assert calls["p50"] >= 2 and calls["max"] <= 8, calls
    asked = [
        (s["scenario_id"], inv)
        for s in report["scenarios"]
        for inv in s["outcome"]["run"]["investigations"]
        if inv["usage"]["model_calls"]
    ]
    assert len(asked) == prompt["n"]
    assert {scenario_id for scenario_id, _ in asked} == set(SCENARIOS)
    for _, inv in asked:
        assert inv["usage"]["tool_calls"] >= 2 and "tool:1" in inv["diagnosis"]["cited_evidence"]
        assert inv["diagnosis"]["category"] == "oom", "read from the cluster: OOMKilled"
    assert "## LLM" in markdown and "Tool calls per incident" in markdown
