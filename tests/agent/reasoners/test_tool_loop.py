"""The LLM reasoner's bounded tool loop through real HTTP against scripted OpenAI-compatible and Ollama
servers: a normal investigation, malformed arguments, unknown and write tools, a model that loops
forever, HTTP 500s, servers and models that cannot use tools, and every budget."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from agent.config import LLMSettings
from agent.domain import RootCause
from agent.reasoners.base import ReasonerError, ReasonerErrorKind, TraceKind
from agent.reasoners.budget import LoopBudget
from agent.reasoners.conversation import BACKOFF_SECONDS
from agent.reasoners.factory import chat_model
from agent.reasoners.llm import LLMReasoner
from agent.reasoners.providers import build_chat_model
from tests.agent import evidence_samples as s
from tests.agent.fake_llm import FakeLLMServer, Turn
from tests.agent.reasoners.conftest import CRASH_LOG, Calls, scripted_tools
from tests.agent.reasoners.test_llm import VALID

FLAVOURS = ["openai", "ollama"]
LOGS = ("k8s_pod_logs", {"namespace": "shop", "pod": "web-api-1", "previous": True})
CITING = {**VALID, "cited_evidence": ["tool:1", "status:pod/web-api-7d9f8c6b5-x2k4p"]}


def reasoner(
    server: FakeLLMServer, calls: Calls, sleep: Callable[[float], None] = time.sleep, **budget: Any
) -> LLMReasoner:
    model = build_chat_model(server.flavour, "m", base_url=server.base_url, timeout=5, max_retries=0)
    return LLMReasoner(model, tools=scripted_tools(calls), budget=LoopBudget(**budget), sleep=sleep)


def tool_messages(request: dict[str, Any]) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "tool"]


def records(result: Any, kind: TraceKind) -> list[Any]:
    return [r for r in result.trace if r.kind is kind]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_normal_investigation_reads_cites_and_answers(fake_llm, flavour) -> None:
    calls: Calls = []
    turns = [
        Turn(tool_calls=[LOGS], input_tokens=2000, output_tokens=10),
        Turn(answer=CITING, input_tokens=2600),
    ]
    server = fake_llm(flavour, turns)
    result = reasoner(server, calls).diagnose(s.incident(), s.oom())

    assert calls == [("k8s_pod_logs", {**LOGS[1], "container": None, "tail": 80, "grep": None})]
    offered = {t["function"]["name"] for t in server.requests[0]["tools"]}
    assert offered == {"k8s_pod_logs", "k8s_describe", "evidence_item"}, "read tools only"
    (fed,) = tool_messages(server.requests[1])
    assert fed.startswith("<<<BEGIN UNTRUSTED TOOL-RESULT") and '"result_id":"tool:1"' in fed
    assert "out of memory" in fed and "hunter2" not in fed, "tool results are redacted before the model"
    assert result.diagnosis.category is RootCause.OOM
    assert result.diagnosis.cited_evidence == CITING["cited_evidence"], "a fetched result may be cited"
    (call,) = records(result, TraceKind.TOOL_CALL)
    assert call.detail["tool"] == "k8s_pod_logs" and call.detail["status"] == "ok"
    assert call.detail["result_id"] == "tool:1" and call.detail["arguments"]["pod"] == "web-api-1"
    assert (
        call.detail["tokens"] > 0
        and "duration_ms" in call.detail
        and "hunter2" not in json.dumps(call.detail)
    )
    usage = result.usage
    assert (usage.model_calls, usage.tool_calls, usage.max_prompt_tokens) == (2, 1, 2600)


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_malformed_arguments_go_back_to_the_model_as_errors(fake_llm, flavour) -> None:
    calls: Calls = []
    turns = [Turn(tool_calls=[("k8s_pod_logs", '{"namespace": "shop", pod: ')]), Turn(tool_calls=[LOGS]),
             Turn(answer=VALID)]  # fmt: skip
    server = fake_llm(flavour, turns)
    result = reasoner(server, calls).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM and len(calls) == 1
    statuses = [r.detail["status"] for r in records(result, TraceKind.TOOL_CALL)]
    assert statuses == ["malformed", "ok"]
    told = json.dumps(server.requests[1]["messages"][-1])
    assert "not valid JSON" in told or "could not be parsed" in told


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize(
    ("name", "args", "said"),
    [
        ("kubectl_delete", {"namespace": "shop", "name": "web-api"}, "unknown tool 'kubectl_delete'"),
        ("patch", {"patch": {"spec": {"replicas": 0}}}, "unknown tool 'patch'"),
        ("k8s_pod_logs", {"namespace": "kube-system", "pod": "x"}, "outside Paramedic's scope"),
        ("k8s_pod_logs", {"namespace": "shop", "pod": "x", "sudo": True}, "Extra inputs are not permitted"),
    ],
)
def test_unknown_write_out_of_scope_and_invalid_calls_are_tool_errors(
    fake_llm, flavour, name, args, said
) -> None:
    calls: Calls = []
    server = fake_llm(flavour, [Turn(tool_calls=[(name, args)]), Turn(answer=VALID)])
    result = reasoner(server, calls).diagnose(s.incident(), s.oom())
    assert calls == [], "nothing ran"
    (fed,) = tool_messages(server.requests[1])
    assert (said in fed and "k8s_describe" in fed) or said in fed
    (call,) = records(result, TraceKind.TOOL_CALL)
    assert call.detail["status"] in ("error", "denied") and result.diagnosis.category is RootCause.OOM


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_model_that_loops_forever_ends_unknown_within_the_turn_budget(fake_llm, flavour) -> None:
    calls: Calls = []
    server = fake_llm(flavour, [Turn(tool_calls=[LOGS]) for _ in range(20)])
    result = reasoner(server, calls, max_turns=6, max_tool_calls=50).diagnose(s.incident(), s.oom())
    assert len(server.requests) == 6 and len(calls) == 6
    d = result.diagnosis
    assert d.category is RootCause.UNKNOWN and d.confidence == 0.0 and d.remediation.action.value == "notify"
    (spent,) = records(result, TraceKind.BUDGET)
    assert "6 model turns" in spent.summary and spent.detail["spent"]["tool_calls"] == 6
    assert len(records(result, TraceKind.TOOL_CALL)) == 6, "the partial trace is kept"


def test_the_tool_call_budget_refuses_further_calls_then_asks_for_the_answer(fake_llm) -> None:
    calls: Calls = []
    two = Turn(
        tool_calls=[LOGS, ("k8s_describe", {"kind": "Deployment", "namespace": "shop", "name": "web-api"})]
    )
    server = fake_llm("openai", [two, Turn(answer=VALID)])
    result = reasoner(server, calls, max_tool_calls=1).diagnose(s.incident(), s.oom())
    assert [c[0] for c in calls] == ["k8s_pod_logs"]
    assert [r.detail["status"] for r in records(result, TraceKind.TOOL_CALL)] == ["ok", "refused"]
    last = server.requests[1]
    assert "response_format" in last and not last.get("tools"), "the final request is the structured answer"
    assert "final diagnosis" in json.dumps(last["messages"][-1])


def test_the_prompt_window_stops_adding_results(fake_llm) -> None:
    calls: Calls = []
    server = fake_llm("openai", [Turn(tool_calls=[LOGS]), Turn(answer=VALID)])
    result = reasoner(server, calls, prompt_window=3000, opening_tokens=500).diagnose(s.incident(), s.oom())
    (call,) = records(result, TraceKind.TOOL_CALL)
    assert call.detail["status"] == "refused" and CRASH_LOG[:20] not in json.dumps(server.requests[1])


def test_a_token_budget_and_a_wall_time_budget_end_unknown(fake_llm) -> None:
    server = fake_llm("openai", [Turn(tool_calls=[LOGS], input_tokens=5000) for _ in range(3)])
    spent = reasoner(server, [], max_tokens=5000).diagnose(s.incident(), s.oom())
    assert (
        spent.diagnosis.category is RootCause.UNKNOWN
        and "tokens" in records(spent, TraceKind.BUDGET)[0].summary
    )
    assert len(server.requests) == 1

    now = [0.0]

    def clock() -> float:
        now[0] += 40.0  # every look at the clock is 40 s later
        return now[0]

    slow = fake_llm("openai", [Turn(tool_calls=[LOGS]) for _ in range(5)])
    model = build_chat_model("openai", "m", base_url=slow.base_url, timeout=5, max_retries=0)
    timed = LLMReasoner(model, tools=scripted_tools([]), budget=LoopBudget(max_wall_seconds=100), clock=clock)
    result = timed.diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.UNKNOWN
    assert "wall time" in records(result, TraceKind.BUDGET)[0].summary


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_http_500s_are_retried_then_reported(fake_llm, flavour) -> None:
    server = fake_llm(
        flavour, [Turn(status=500), Turn(status=503), Turn(tool_calls=[LOGS]), Turn(answer=VALID)]
    )
    waits: list[float] = []  # the backoff, recorded instead of slept (1.5 s of wall per run)
    result = reasoner(server, [], sleep=waits.append, retries=2).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM
    assert len([r for r in records(result, TraceKind.CHECK) if "retry" in r.summary]) == 2
    assert waits == [BACKOFF_SECONDS, 2 * BACKOFF_SECONDS], "exponential backoff between the retries"

    down = fake_llm(flavour, [Turn(status=500) for _ in range(5)])
    waits.clear()
    with pytest.raises(ReasonerError) as info:
        reasoner(down, [], sleep=waits.append, retries=1).diagnose(s.incident(), s.oom())
    assert info.value.kind is ReasonerErrorKind.UNAVAILABLE and len(down.requests) == 2
    assert waits == [BACKOFF_SECONDS]


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_server_that_refuses_tools_falls_back_to_one_shot_once_and_for_all(fake_llm, flavour) -> None:
    refusal = Turn(status=400, error="registry.ollama.ai/library/gemma:2b does not support tools")
    server = fake_llm(flavour, [refusal, Turn(answer=VALID), Turn(answer=VALID)])
    llm = reasoner(server, [])
    first = llm.diagnose(s.incident(), s.oom())
    assert first.diagnosis.category is RootCause.OOM
    (fallback,) = records(first, TraceKind.FALLBACK)
    assert "does not support tools" in fallback.detail["reason"]
    assert server.requests[0]["tools"] and not server.requests[1].get("tools")
    one_shot = records(first, TraceKind.PROMPT)[-1]
    assert one_shot.summary.endswith("(one-shot)") and one_shot.detail["tools"] == []
    second = llm.diagnose(s.incident(), s.oom())
    assert len(server.requests) == 3 and not server.requests[2].get("tools"), "not offered again"
    assert "refused tools earlier" in records(second, TraceKind.FALLBACK)[0].summary


def test_a_model_that_never_calls_tools_is_asked_again_one_shot(fake_llm) -> None:
    server = fake_llm(
        "openai", [Turn(text="I cannot use tools, but the pod was OOMKilled."), Turn(answer=VALID)]
    )
    result = reasoner(server, []).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM
    assert "says it cannot use tools" in records(result, TraceKind.FALLBACK)[0].summary
    bigger = records(result, TraceKind.PROMPT)[-1].detail["bundle"]
    assert bigger["budget"] == LoopBudget().oneshot_tokens


def test_an_answer_given_instead_of_a_tool_call_is_taken_as_is(fake_llm) -> None:
    server = fake_llm("openai", [Turn(text=json.dumps(VALID))])
    result = reasoner(server, []).diagnose(s.incident(), s.oom())
    assert result.diagnosis.category is RootCause.OOM and len(server.requests) == 1


def test_ollama_requests_carry_a_num_ctx_that_holds_the_prompt(fake_llm) -> None:
    server = fake_llm("ollama", [Turn(tool_calls=[LOGS]), Turn(tool_calls=[LOGS]), Turn(answer=VALID)])
    settings = LLMSettings(provider="ollama", model="llama3.1", base_url=server.base_url)
    budget = LoopBudget.from_settings(settings)
    llm = LLMReasoner(chat_model(settings, "ollama"), tools=scripted_tools([]), budget=budget)
    llm.diagnose(s.incident(), s.oom())
    assert len(server.requests) == 3
    for request in server.requests:
        size = len(json.dumps(request["messages"])) + len(json.dumps(request.get("tools") or []))
        assert request["options"]["num_ctx"] == settings.ollama_num_ctx() >= size // 3, "room for the prompt"
    small = LLMSettings(provider="ollama", model="m", num_ctx=8192)
    assert small.ollama_num_ctx() == 8192 and LoopBudget.from_settings(small).prompt_window == 8192


def test_the_opening_evidence_fits_its_budget_and_names_what_it_left_out(fake_llm) -> None:
    server = fake_llm("openai", [Turn(answer=VALID)])
    evidence = s.oom()
    noise = [s.event(100 + i, "Pulled", f"Successfully pulled image in {i}.2s", "Normal") for i in range(60)]
    evidence = evidence.model_copy(update={"items": [*evidence.items, *noise]})
    result = reasoner(server, [], opening_tokens=600).diagnose(s.incident(), evidence)
    prompt = records(result, TraceKind.PROMPT)[0].detail
    assert prompt["bundle"]["tokens"] <= 600 and prompt["bundle"]["omitted"]
    user = server.requests[0]["messages"][1]["content"]
    assert "not_shown" in user and prompt["bundle"]["omitted"][0] in user


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_model_that_times_out_mid_investigation_is_retried_then_a_typed_timeout(fake_llm, flavour) -> None:
    server = fake_llm(
        flavour, [Turn(tool_calls=[LOGS]), Turn(answer=VALID, delay=3), Turn(answer=VALID, delay=3)]
    )
    model = build_chat_model(flavour, "m", base_url=server.base_url, timeout=0.3, max_retries=0)
    llm = LLMReasoner(model, tools=scripted_tools([]), budget=LoopBudget(retries=1))
    with pytest.raises(ReasonerError) as info:
        llm.diagnose(s.incident(), s.oom())
    assert info.value.kind is ReasonerErrorKind.TIMEOUT and len(server.requests) == 3
    kinds = [r.kind for r in info.value.trace]
    assert TraceKind.TOOL_CALL in kinds, "the partial trace travels with the error"
