"""Trace events: schema validation, builders, blob externalization and the stream bridge."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from langgraph.graph import END, START, StateGraph
from pydantic import ValidationError
from typing_extensions import TypedDict

from agent import trace
from agent.domain import Usage
from agent.reasoners.base import TraceKind, TraceRecord
from agent.trace import BLOB_KEY, Blob, TraceEvent, TraceEventType
from tools.result import ToolCallEvent, ToolStatus


def test_every_issue_event_type_exists() -> None:
    assert {t.value for t in TraceEventType} == {
        "node_start", "node_end", "tool_call", "prompt", "model_output", "decision", "approval",
        "action", "verification", "error", "note", "wait",
    }  # fmt: skip


def test_timestamps_are_aware_and_normalised_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    event = TraceEvent(run_id="r", type="note", ts=datetime(2026, 1, 1, 12, tzinfo=plus_two))
    assert event.ts == datetime(2026, 1, 1, 10, tzinfo=UTC) and event.ts.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone"):
        TraceEvent(run_id="r", type="note", ts=datetime(2026, 1, 1, 12))


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"when": datetime(2026, 1, 1, tzinfo=UTC)}, "payload/when"),
        ({"deep": [1, {"x": float("nan")}]}, "payload/deep/1/x"),
        ({"a/b": {1: "int key"}}, "payload/a~1b"),
        ({"x": {BLOB_KEY: "0" * 64}}, "reserved"),
    ],
)
def test_a_payload_that_is_not_plain_json_is_refused_with_its_path(payload: dict, where: str) -> None:
    with pytest.raises(ValidationError, match=where):
        TraceEvent(run_id="r", type="note", payload=payload)


def test_unknown_type_and_empty_run_id_are_refused() -> None:
    with pytest.raises(ValidationError, match="type"):
        TraceEvent(run_id="r", type="thought")
    with pytest.raises(ValidationError, match="run_id"):
        TraceEvent(run_id="", type="note")


def test_nul_in_summary_is_replaced_but_kept_exactly_in_the_payload() -> None:
    event = trace.note("r", "n", "bad\x00byte", {"line": "bad\x00byte"})
    assert event.summary == "bad\ufffdbyte"
    assert event.payload["line"] == "bad\x00byte"


def test_tool_call_event_keeps_arguments_status_error_and_start_time() -> None:
    started = datetime(2026, 3, 1, 11, 0, 5, tzinfo=UTC)
    call = ToolCallEvent(
        tool="k8s.logs", arguments={"pod": "web-1", "since": started}, status=ToolStatus.ERROR,
        duration_ms=12.5, summary="error: timeout", error="timed out after 10s", started_at=started,
    )  # fmt: skip
    event = trace.tool_call("run-1", call, node="gather")
    assert event.type is TraceEventType.TOOL_CALL and event.node == "gather"
    assert event.ts == started
    assert event.payload == {
        "tool": "k8s.logs", "arguments": {"pod": "web-1", "since": "2026-03-01T11:00:05Z"},
        "status": "error", "duration_ms": 12.5, "summary": "error: timeout", "error": "timed out after 10s",
    }  # fmt: skip
    assert "k8s.logs" in event.summary


def test_prompt_keeps_every_rendered_message_including_langchain_ones() -> None:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages = [SystemMessage("be careful"), HumanMessage("evidence: ..."), AIMessage("thinking"),
                {"role": "tool", "content": "{}"}]  # fmt: skip
    event = trace.prompt("r", "diagnose", messages, model="gpt-4o-mini", template="diagnose.md")
    assert [m["role"] for m in event.payload["messages"]] == ["system", "human", "ai", "tool"]
    assert event.payload["messages"][1]["content"] == "evidence: ..."
    assert event.payload["model"] == "gpt-4o-mini" and event.payload["template"] == "diagnose.md"


def test_model_output_decision_action_verification_approval_error() -> None:
    out = trace.model_output("r", "diagnose", '{"category": "oom"}\nmore', usage=Usage(model_calls=1,
                             input_tokens=10, output_tokens=3), parsed={"category": "oom"})  # fmt: skip
    assert out.payload["text"] == '{"category": "oom"}\nmore'
    assert out.payload["usage"] == {
        "model_calls": 1,
        "input_tokens": 10,
        "output_tokens": 3,
        "tool_calls": 0,
        "max_prompt_tokens": 0,
    }
    assert out.summary == '{"category": "oom"}'

    dec = trace.decision("r", "decide", route="ask", rationale="confidence 0.6 < act 0.8",
                         inputs={"confidence": 0.6})  # fmt: skip
    assert dec.payload == {
        "route": "ask",
        "rationale": "confidence 0.6 < act 0.8",
        "inputs": {"confidence": 0.6},
    }

    act = trace.action(
        "r", "act", action_type="patch", who="paramedic", what="raise memory limit", why="OOMKilled",
        diff="-64Mi\n+128Mi", result="ok", details={"who": "shadowed?"},
    )  # fmt: skip
    assert act.payload["who"] == "paramedic" and act.payload["details"] == {"who": "shadowed?"}

    ver = trace.verification("r", "verify", healthy=False, detail="2/3 ready", attempt=2)
    assert ver.payload == {"healthy": False, "detail": "2/3 ready", "attempt": 2}
    assert "still unhealthy" in ver.summary

    appr = trace.approval("r", "approve", status="approved", details={"by": "alice"})
    assert appr.summary == "approval approved by alice"

    try:
        raise KeyError("incident")
    except KeyError as exc:
        err = trace.error("r", "gather", exc=exc)
    assert err.payload["error_type"] == "KeyError"
    assert "raise KeyError" in err.payload["traceback"]


def test_reasoner_records_map_to_event_types_and_keep_their_detail() -> None:
    at = datetime(2026, 3, 1, tzinfo=UTC)
    record = TraceRecord(kind=TraceKind.ANSWER, reasoner="llm", summary="answer", detail={"kind": "x"}, at=at)
    event = trace.from_reasoner_record("r", "diagnose", record)
    assert event.type is TraceEventType.MODEL_OUTPUT and event.ts == at
    assert event.payload == {"reasoner": "llm", "kind": "answer", "detail": {"kind": "x"}}
    kinds = {k: trace.from_reasoner_record("r", "n", TraceRecord(kind=k, reasoner="x", summary="s")).type
             for k in TraceKind}  # fmt: skip
    assert kinds[TraceKind.PROMPT] is TraceEventType.PROMPT
    assert kinds[TraceKind.RULE] is TraceEventType.DECISION


def _store(blobs: list[Blob], into: dict[str, Blob]) -> None:
    for blob in blobs:
        into[blob.sha256] = blob


def test_small_payloads_are_left_alone() -> None:
    event = trace.note("r", "n", "s", {"text": "x" * 100})
    same, blobs = trace.externalize(event)
    assert same == event and blobs == []


def test_large_values_become_content_addressed_blobs_and_come_back_exactly() -> None:
    big = "line ünïcode\n" * 1000
    manifest = {"spec": {f"k{i}": "v" * 50 for i in range(200)}}
    event = trace.note(
        "r", "n", "s", {"logs": big, "nested": {"manifest": manifest, "small": 1}, "again": big}
    )
    stored, blobs = trace.externalize(event, threshold=4096)

    assert stored.payload["logs"] == {BLOB_KEY: hashlib.sha256(big.encode()).hexdigest()}
    assert stored.payload["again"] == stored.payload["logs"]
    assert stored.payload["nested"]["small"] == 1
    assert len(blobs) == 2, "the repeated text is stored once"
    assert {ref.path for ref in stored.blobs} == {"/logs", "/again", "/nested/manifest/spec"}
    assert len(json.dumps(stored.payload)) < 4096
    TraceEvent.model_validate(stored.model_dump())  # markers are valid once referenced

    store: dict[str, Blob] = {}
    _store(blobs, store)
    assert trace.inline(stored, store.__getitem__).payload == event.payload


def test_a_big_list_of_small_items_becomes_one_json_blob_with_nested_blobs_inside() -> None:
    huge = "z" * 5000
    items = [f"item {i}" for i in range(2000)] + [huge]
    event = trace.note("r", "n", "s", {"items": items})
    stored, blobs = trace.externalize(event, threshold=4096)
    assert set(stored.payload["items"]) == {BLOB_KEY}
    assert len(blobs) == 2
    store: dict[str, Blob] = {}
    _store(blobs, store)
    assert trace.inline(stored, store.__getitem__).payload == event.payload


def test_inline_refuses_a_blob_whose_content_does_not_match_its_hash() -> None:
    stored, blobs = trace.externalize(trace.note("r", "n", "s", {"t": "a" * 5000}))
    forged = Blob(blobs[0].sha256, blobs[0].media_type, b"b" * 5000)
    with pytest.raises(ValueError, match="does not match"):
        trace.inline(stored, lambda _sha: forged)


def test_stream_chunks_round_trip_and_other_chunks_are_ignored() -> None:
    event = trace.decision("r", "decide", route="act", rationale="sure")
    assert trace.from_stream_chunk(trace.to_stream_chunk(event)) == event
    assert trace.from_stream_chunk({"progress": 3}) is None
    assert trace.from_stream_chunk("text") is None


class _State(TypedDict):
    n: int


def test_events_emitted_inside_nodes_arrive_on_the_custom_stream_in_order() -> None:
    def step(state: _State) -> _State:
        trace.emit(trace.node_start("run-9", "step"))
        trace.emit(trace.note("run-9", "step", "working"))
        trace.emit(trace.node_end("run-9", "step", summary="done"))
        return {"n": state["n"] + 1}

    builder = StateGraph(_State)
    builder.add_node("step", step)
    builder.add_edge(START, "step")
    builder.add_edge("step", END)
    chunks = list(builder.compile().stream({"n": 0}, stream_mode="custom"))
    events = [trace.from_stream_chunk(chunk) for chunk in chunks]
    assert [(e.type, e.summary) for e in events if e] == [
        (TraceEventType.NODE_START, "step started"),
        (TraceEventType.NOTE, "working"),
        (TraceEventType.NODE_END, "done"),
    ]


def test_emit_outside_a_graph_is_an_error() -> None:
    with pytest.raises(RuntimeError):
        trace.emit(trace.note("r", None, "nowhere"))
