"""The GEval judge (`judge_from_env`) grades an explanation through a local fake server speaking
the OpenAI wire protocol (scripted answers).

The providers' eval accounting lives elsewhere: the OpenAI-compatible provider's whole eval run
(the report's model calls, tokens and cost exactly what the server handed out) is
tests/evals/test_llm_eval.py; each provider's usage note in the graph, over its own wire protocol
and tools (Ollama included), is tests/graph/test_llm_tools_graph.py; each provider's request and
usage parsing is unit-tested in tests/agent/reasoners/test_llm.py.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.agent.fake_llm import FakeLLMServer, Turn

os.environ.setdefault("DEEPEVAL_TELEMETRY_OPT_OUT", "YES")
pytestmark = pytest.mark.integration


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
