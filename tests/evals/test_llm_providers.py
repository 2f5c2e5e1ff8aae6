"""The LLM providers through local fake servers speaking the real wire protocols (scripted answers).

`paramedic eval --provider ollama` runs a scenario through the real watcher and graph, whose LLM
reasoner talks HTTP to the fake Ollama server: the report's model calls and tokens must be
exactly what the server handed out, and the cost what the configured prices make of them. The
OpenAI-compatible provider's eval run (the same accounting, plus tool calls) is
tests/evals/test_llm_eval.py; each provider's request and usage parsing is unit-tested in
tests/agent/reasoners/test_llm.py.
The GEval judge (`judge_from_env`) grades an explanation through the same kind of server.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app
from tests.agent.fake_llm import FakeLLMServer, Turn

os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")
pytestmark = [pytest.mark.integration, pytest.mark.e2e]
IN_TOKENS, OUT_TOKENS = 1200, 80
PRICE_IN, PRICE_OUT = 0.5, 2.0  # USD per million tokens

DIAGNOSIS = {
    "category": "bad_image",
    "explanation": "The worker's image tag does not exist in the registry, so its pods cannot pull it.",
    "faulty_resource": "Deployment shop/worker",
    "faulty_field": "spec.template.spec.containers[app].image",
    "confidence": 0.9,
    # notify changes nothing: the point here is the plumbing, not the fix
    "remediation": {"action": "notify", "rationale": "tell the owners"},
}


def test_ollama_provider_plumbing_and_token_accounting(tmp_path, monkeypatch):
    provider = "ollama"
    turns = [Turn(answer=DIAGNOSIS, input_tokens=IN_TOKENS, output_tokens=OUT_TOKENS) for _ in range(8)]
    with FakeLLMServer(provider, turns) as server:
        monkeypatch.setenv("PARAMEDIC_LLM__BASE_URL", server.base_url)
        monkeypatch.setenv("PARAMEDIC_LLM__MODEL", "fake-model")
        monkeypatch.setenv("PARAMEDIC_LLM__API_KEY", "sk-test")
        monkeypatch.setenv("PARAMEDIC_LLM__PRICE_PER_MILLION_INPUT_TOKENS", str(PRICE_IN))
        monkeypatch.setenv("PARAMEDIC_LLM__PRICE_PER_MILLION_OUTPUT_TOKENS", str(PRICE_OUT))
        args = ["eval", "--provider", provider, "--split", "dev", "--scenario", "dev-bad-image-worker"]
        result = CliRunner().invoke(app, [*args, "--out", str(tmp_path), "--time-budget", "120"])
        calls = len(server.requests)
    assert result.exit_code == 0, result.output
    (results,) = [p for p in Path(tmp_path).iterdir() if p.is_dir()]
    report = json.loads((results / "report.json").read_text())
    overall = report["overall"]
    assert calls >= 1, "the reasoner never reached the fake server"
    assert report["run"]["provider"] == provider and report["run"]["model"] == "fake-model"
    assert overall["model_calls"] == calls
    assert (overall["input_tokens"], overall["output_tokens"]) == (calls * IN_TOKENS, calls * OUT_TOKENS)
    assert overall["cost_usd"] == pytest.approx(calls * (IN_TOKENS * PRICE_IN + OUT_TOKENS * PRICE_OUT) / 1e6)
    (scenario,) = report["scenarios"]
    (investigation, *_) = scenario["outcome"]["run"]["investigations"]
    assert investigation["diagnosis"]["category"] == "bad_image", "the scripted answer became the diagnosis"
    assert scenario["score"]["category_correct"] is True
    assert overall["unsafe_actions"] == 0


def test_the_geval_judge_grades_through_an_openai_compatible_server():
    # Imported here: deepeval takes seconds to import and every xdist worker collects this module.
    from deepeval.test_case import LLMTestCase

    from evals.metrics_deepeval import explanation_metric, judge_from_env

    verdict = {"score": 8, "reason": "same resource and mechanism"}
    with FakeLLMServer("openai", [Turn(answer=verdict, input_tokens=300, output_tokens=30)]) as server:
        judge = judge_from_env(
            {
                "PARAMEDIC_EVAL_JUDGE": "openai",
                "PARAMEDIC_EVAL_JUDGE_MODEL": "gpt-4o-mini",
                "PARAMEDIC_EVAL_JUDGE_BASE_URL": server.base_url,
                "PARAMEDIC_EVAL_JUDGE_API_KEY": "sk-test",
            }
        )
        assert judge is not None
        metric = explanation_metric(judge)
        case = LLMTestCase(
            input="worker pods are in ImagePullBackOff",
            actual_output="bad_image on Deployment shop/worker: the image tag does not exist",
            expected_output="The worker's image was bumped to a tag that does not exist.",
        )
        metric.measure(case)
        sent = json.dumps(server.requests)
    assert metric.score == pytest.approx(0.8) and metric.is_successful()
    assert "the image tag does not exist" in sent and "does not exist." in sent
