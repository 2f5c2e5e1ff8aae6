"""The reasoning trace: one ordered, timestamped event per step of a healing run.

Nodes build events with the helpers below and `emit` them as LangGraph custom stream chunks
(`stream_mode="custom"`); whoever drives the graph turns chunks back into events with
`from_stream_chunk` and appends them to the run store, which assigns the per-run `seq`.

Nothing is truncated. Large values (over `BLOB_THRESHOLD` bytes) are moved out of the payload
by `externalize` into content-addressed blobs (sha256), stored once however often they recur,
and replaced by a `{"$blob": "<sha256>"}` marker; `inline` puts them back.
"""

from __future__ import annotations

import hashlib
import json
import math
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import to_jsonable_python

from agent.domain import Usage
from agent.reasoners.base import TraceKind, TraceRecord
from tools.result import ToolCallEvent

BLOB_THRESHOLD = 4096
BLOB_KEY = "$blob"
STREAM_KEY = "paramedic.trace"
TEXT_MEDIA = "text/plain; charset=utf-8"
JSON_MEDIA = "application/json"


class TraceEventType(StrEnum):
    """What a trace event records."""

    NODE_START = "node_start"
    NODE_END = "node_end"
    TOOL_CALL = "tool_call"
    PROMPT = "prompt"  # the rendered messages sent to a model
    MODEL_OUTPUT = "model_output"  # a model's raw answer
    DECISION = "decision"  # a route chosen, with its rationale
    APPROVAL = "approval"  # a human was asked, or answered
    WAIT = "wait"  # the run waits on something outside it (a pull request's merge), or stopped waiting
    ACTION = "action"  # a remediation attempted, with its audit facts
    VERIFICATION = "verification"
    ERROR = "error"
    NOTE = "note"


class BlobRef(BaseModel):
    """A value moved out of the payload: where it was (JSON pointer) and how to fetch it."""

    model_config = ConfigDict(frozen=True)

    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0, description="Bytes of content.")
    media_type: str
    path: str = Field(description="JSON pointer of the value in the payload, e.g. '/messages/1/content'.")


@dataclass(frozen=True)
class Blob:
    """Content addressed by its sha256."""

    sha256: str
    media_type: str
    content: bytes


class TraceEvent(BaseModel):
    """One step of a run. `seq` (gapless per run) and `id` (global, increasing) come from the store."""

    model_config = ConfigDict(frozen=True)

    run_id: str = Field(min_length=1, max_length=200)
    seq: int | None = Field(default=None, ge=1)
    id: int | None = Field(default=None, ge=1)
    ts: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    type: TraceEventType
    node: str | None = Field(default=None, max_length=200)
    summary: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    blobs: list[BlobRef] = Field(default_factory=list)

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("summary", "node")
    @classmethod
    def _no_nul(cls, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; the payload (JSON-escaped) keeps the exact value.
        return value.replace("\x00", "\ufffd") if value else value

    @model_validator(mode="after")
    def _json_payload(self) -> TraceEvent:
        known = {ref.sha256 for ref in self.blobs}
        _check_json(self.payload, "", known)
        return self


def check_json(value: Any, name: str = "value") -> None:
    """Raise ValueError, naming the JSON pointer, when `value` is not plain, finite JSON."""
    _check_json(value, "", set(), name)


def _check_json(value: Any, path: str, blob_shas: set[str], name: str = "payload") -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name}{path or '/'}: {value} is not a finite number")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}/{index}", blob_shas, name)
        return
    if isinstance(value, dict):
        if BLOB_KEY in value:
            if len(value) != 1 or value[BLOB_KEY] not in blob_shas:
                raise ValueError(f"{name}{path or '/'}: key {BLOB_KEY!r} is reserved for blob references")
            return
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{name}{path or '/'}: key {key!r} is not a string")
            _check_json(item, f"{path}/{_pointer_escape(key)}", blob_shas, name)
        return
    raise ValueError(f"{name}{path or '/'}: {type(value).__name__} is not JSON (use the trace helpers)")


def _pointer_escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def jsonable(value: Any) -> Any:
    """A value as plain JSON types (models dumped, datetimes as ISO text, unknown objects as repr)."""
    return to_jsonable_python(value, fallback=repr)


def canonical_json(value: Any) -> bytes:
    """The UTF-8 JSON that blob hashes are computed over (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def make_blob(value: str | Any) -> Blob:
    """A blob of a text (stored as UTF-8) or of any JSON value (stored as canonical JSON)."""
    if isinstance(value, str):
        content, media = value.encode("utf-8", "surrogatepass"), TEXT_MEDIA
    else:
        content, media = canonical_json(value), JSON_MEDIA
    return Blob(hashlib.sha256(content).hexdigest(), media, content)


def externalize(event: TraceEvent, threshold: int = BLOB_THRESHOLD) -> tuple[TraceEvent, list[Blob]]:
    """Move every value over `threshold` bytes out of the payload, innermost first.

    A long string becomes a text blob; a list or object whose JSON is still over the threshold
    after its own large parts left becomes a JSON blob. The payload root always stays.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1 byte")
    blobs: dict[str, Blob] = {}
    refs: list[BlobRef] = list(event.blobs)

    def move(value: Any, path: str) -> Any:
        blob = make_blob(value)
        blobs.setdefault(blob.sha256, blob)
        size = len(blob.content)
        refs.append(BlobRef(sha256=blob.sha256, size=size, media_type=blob.media_type, path=path))
        return {BLOB_KEY: blob.sha256}

    def walk(value: Any, path: str, root: bool = False) -> Any:
        if isinstance(value, str):
            return move(value, path) if len(value.encode("utf-8", "surrogatepass")) > threshold else value
        if isinstance(value, dict):
            if BLOB_KEY in value:  # already a reference
                return value
            out: Any = {key: walk(item, f"{path}/{_pointer_escape(key)}") for key, item in value.items()}
        elif isinstance(value, list):
            out = [walk(item, f"{path}/{index}") for index, item in enumerate(value)]
        else:
            return value
        if not root and len(canonical_json(out)) > threshold:
            return move(out, path)
        return out

    payload = walk(event.payload, "", root=True)
    if not blobs:
        return event, []
    return event.model_copy(update={"payload": payload, "blobs": refs}), list(blobs.values())


def inline(event: TraceEvent, fetch: Callable[[str], Blob]) -> TraceEvent:
    """The event with every blob reference replaced by its content (fetched by sha256)."""
    if not event.blobs:
        return event
    cache: dict[str, Any] = {}

    def load(sha: str) -> Any:
        if sha not in cache:
            blob = fetch(sha)
            if hashlib.sha256(blob.content).hexdigest() != sha:
                raise ValueError(f"blob {sha} does not match its content")
            text = blob.content.decode("utf-8", "surrogatepass")
            cache[sha] = walk(json.loads(text)) if blob.media_type == JSON_MEDIA else text
        return cache[sha]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {BLOB_KEY}:
                return load(value[BLOB_KEY])
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return event.model_copy(update={"payload": walk(event.payload), "blobs": []})


# --- builders -------------------------------------------------------------------------------


def _event(run_id: str, type_: TraceEventType, node: str | None, summary: str, payload: Mapping[str, Any],
           ts: datetime | None = None) -> TraceEvent:  # fmt: skip
    data = jsonable(dict(payload))
    if ts is None:
        return TraceEvent(run_id=run_id, type=type_, node=node, summary=summary, payload=data)
    return TraceEvent(run_id=run_id, type=type_, node=node, summary=summary, payload=data, ts=ts)


def node_start(run_id: str, node: str, *, payload: Mapping[str, Any] | None = None) -> TraceEvent:
    """A node began."""
    return _event(run_id, TraceEventType.NODE_START, node, f"{node} started", payload or {})


def node_end(
    run_id: str, node: str, *, summary: str = "", duration_ms: float | None = None,
    payload: Mapping[str, Any] | None = None,
) -> TraceEvent:  # fmt: skip
    """A node finished; `summary` says what it concluded."""
    data = dict(payload or {})
    if duration_ms is not None:
        data["duration_ms"] = duration_ms
    return _event(run_id, TraceEventType.NODE_END, node, summary or f"{node} finished", data)


def tool_call(run_id: str, call: ToolCallEvent, *, node: str | None = None) -> TraceEvent:
    """A tool call, timestamped when it started, with its arguments, status and error."""
    payload = {
        "tool": call.tool,
        "arguments": dict(call.arguments),
        "status": call.status.value,
        "duration_ms": call.duration_ms,
        "summary": call.summary,
        "error": call.error,
    }
    return _event(run_id, TraceEventType.TOOL_CALL, node, f"{call.tool}: {call.summary}", payload,
                  ts=call.started_at)  # fmt: skip


def _message(message: Any) -> Any:
    if isinstance(message, Mapping):
        return dict(message)
    role = getattr(message, "type", None)
    content = getattr(message, "content", None)
    if role is None or content is None:
        return message
    data: dict[str, Any] = {"role": role, "content": content}
    for extra in ("name", "tool_calls", "tool_call_id"):
        if getattr(message, extra, None):
            data[extra] = getattr(message, extra)
    return data


def prompt(
    run_id: str, node: str, messages: Sequence[Any], *, model: str | None = None,
    template: str | None = None,
) -> TraceEvent:  # fmt: skip
    """The rendered messages sent to a model (dicts or LangChain messages), in order."""
    rendered = [_message(m) for m in messages]
    payload = {"messages": rendered, "model": model, "template": template}
    where = f" to {model}" if model else ""
    return _event(run_id, TraceEventType.PROMPT, node, f"{len(rendered)} message(s){where}", payload)


def model_output(
    run_id: str, node: str, text: str, *, model: str | None = None, usage: Usage | None = None,
    parsed: Any = None,
) -> TraceEvent:  # fmt: skip
    """A model's raw answer, its parsed form when there is one, and what it cost."""
    payload = {"text": text, "model": model, "usage": usage, "parsed": parsed}
    first_line = text.strip().splitlines()[0] if text.strip() else "(empty answer)"
    return _event(run_id, TraceEventType.MODEL_OUTPUT, node, first_line[:200], payload)


def decision(
    run_id: str, node: str, *, route: str, rationale: str, inputs: Mapping[str, Any] | None = None,
) -> TraceEvent:  # fmt: skip
    """Where the run goes next and why, with the facts that drove it."""
    payload = {"route": route, "rationale": rationale, "inputs": dict(inputs or {})}
    return _event(run_id, TraceEventType.DECISION, node, f"{route}: {rationale}", payload)


def approval(run_id: str, node: str, *, status: str, details: Mapping[str, Any] | None = None) -> TraceEvent:
    """A human was asked (`status="requested"`) or answered (approved, rejected, expired, ...)."""
    info = dict(details or {})
    payload = {"status": status, "details": info}
    by = info.get("by")
    return _event(run_id, TraceEventType.APPROVAL, node, f"approval {status}" + (f" by {by}" if by else ""),
                  payload)  # fmt: skip


def wait(
    run_id: str, node: str, *, status: str, summary: str, details: Mapping[str, Any] | None = None
) -> TraceEvent:
    """The run starts waiting (`status="waiting"`) on a pull request, or the wait ended (merged, ...)."""
    payload = {"status": status, "details": dict(details or {})}
    return _event(run_id, TraceEventType.WAIT, node, summary, payload)


def action(
    run_id: str, node: str, *, action_type: str, who: str, what: str, why: str, diff: str, result: str,
    details: Mapping[str, Any] | None = None,
) -> TraceEvent:  # fmt: skip
    """A remediation: who did what, why, with which diff, and the result."""
    payload = {"action": action_type, "who": who, "what": what, "why": why, "diff": diff, "result": result,
               "details": dict(details or {})}  # fmt: skip
    return _event(run_id, TraceEventType.ACTION, node, f"{action_type} by {who}: {result}", payload)


def verification(run_id: str, node: str, *, healthy: bool, detail: str, attempt: int) -> TraceEvent:
    """Whether the workload was healthy after an attempt."""
    payload = {"healthy": healthy, "detail": detail, "attempt": attempt}
    verdict = "healthy" if healthy else "still unhealthy"
    return _event(run_id, TraceEventType.VERIFICATION, node, f"attempt {attempt}: {verdict}", payload)


def error(
    run_id: str, node: str | None, *, message: str = "", exc: BaseException | None = None
) -> TraceEvent:
    """Something failed; with an exception, its type and full traceback are kept."""
    payload: dict[str, Any] = {"message": message or (str(exc) if exc else "")}
    if exc is not None:
        payload["error_type"] = type(exc).__name__
        payload["traceback"] = "".join(traceback.format_exception(exc))
    summary = payload["message"] or (type(exc).__name__ if exc else "error")
    return _event(run_id, TraceEventType.ERROR, node, summary, payload)


def note(run_id: str, node: str | None, summary: str, payload: Mapping[str, Any] | None = None) -> TraceEvent:
    """Anything else worth keeping."""
    return _event(run_id, TraceEventType.NOTE, node, summary, payload or {})


_REASONER_KINDS = {
    TraceKind.PROMPT: TraceEventType.PROMPT,
    TraceKind.ANSWER: TraceEventType.MODEL_OUTPUT,
    TraceKind.TOOL_CALL: TraceEventType.TOOL_CALL,
    TraceKind.RULE: TraceEventType.DECISION,
    TraceKind.FALLBACK: TraceEventType.DECISION,
    TraceKind.REPAIR: TraceEventType.NOTE,
    TraceKind.CHECK: TraceEventType.NOTE,
}


def from_reasoner_record(run_id: str, node: str, record: TraceRecord) -> TraceEvent:
    """A reasoner's own trace step as a run trace event (kind, reasoner and detail kept whole)."""
    payload = {"reasoner": record.reasoner, "kind": record.kind.value, "detail": record.detail}
    return _event(run_id, _REASONER_KINDS[record.kind], node, record.summary, payload, ts=record.at)


# --- LangGraph custom stream bridge ------------------------------------------------------------


def to_stream_chunk(event: TraceEvent) -> dict[str, Any]:
    """The custom stream chunk that carries an event out of a node."""
    return {STREAM_KEY: event.model_dump(mode="json")}


def from_stream_chunk(chunk: Any) -> TraceEvent | None:
    """The event in a custom stream chunk, or None when the chunk is not a trace event."""
    if isinstance(chunk, Mapping) and STREAM_KEY in chunk:
        return TraceEvent.model_validate(chunk[STREAM_KEY])
    return None


def emit(event: TraceEvent) -> None:
    """Send an event on the running graph's custom stream (only valid inside a node)."""
    from langgraph.config import get_stream_writer

    get_stream_writer()(to_stream_chunk(event))
