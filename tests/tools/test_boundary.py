"""The redaction boundary: `call_tool` redacts every result, error, summary and argument it hands out,
keeping types, and withholds what it cannot redact."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest
from pydantic import BaseModel

from tools.boundary import redact_text, redact_value
from tools.redaction import MARKER_PATTERN
from tools.result import ToolCallEvent, ToolFailure, ToolStatus, call_tool

PASSWORD = "Sup3r-S3cret-pw"
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
DSN = f"postgres://app:{PASSWORD}@db:5432/shop"


class Container(BaseModel):
    name: str
    image: str
    env: list[dict[str, Any]] = []
    args: list[str] = []


@dataclass(frozen=True)
class Answer:
    container: Container
    message: str
    restarts: int
    labels: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    pairs: tuple[str, ...] = ()


def _answer() -> Answer:
    return Answer(
        container=Container(
            name="app",
            image="ghcr.io/shop/web:1.2@sha256:" + "a" * 64,
            env=[{"name": "DATABASE_URL", "value": DSN}, {"name": "API_TOKEN", "value": "tok-9f8e7d6c5b4a"}],
            args=["--password", PASSWORD, "--port", "8080"],
        ),
        message=f"login with token {TOKEN} failed",
        restarts=5,
        labels=MappingProxyType({"password": PASSWORD, "app": "web"}),
        pairs=("a", f"Authorization: Bearer {TOKEN}"),
    )


def _text(value: Any) -> str:
    return json.dumps(value, default=lambda v: getattr(v, "__dict__", str(v)), ensure_ascii=False)


def test_redact_value_keeps_types_names_and_numbers_and_drops_every_secret() -> None:
    redacted = redact_value(_answer())
    assert isinstance(redacted, Answer) and isinstance(redacted.container, Container)
    assert isinstance(redacted.labels, MappingProxyType) and isinstance(redacted.pairs, tuple)
    dumped = _text(redacted) + redacted.container.model_dump_json()
    for secret in (PASSWORD, TOKEN, "tok-9f8e7d6c5b4a"):
        assert secret not in dumped
    assert redacted.restarts == 5 and redacted.container.image.startswith("ghcr.io/shop/web:1.2@sha256:")
    assert redacted.container.env[0]["value"].startswith("postgres://app:«redacted:")
    assert redacted.container.env[1] == {"name": "API_TOKEN", "value": redacted.container.env[1]["value"]}
    assert redacted.container.args[0] == "--password" and redacted.container.args[2:] == ["--port", "8080"]
    assert redacted.labels["app"] == "web"
    # one secret, one marker, wherever it appears
    marker = MARKER_PATTERN.search(redacted.container.args[1])
    assert marker is not None and marker.group(0) in redacted.container.env[0]["value"]


def test_redaction_is_idempotent_and_leaves_clean_values_alone() -> None:
    once = redact_value(_answer())
    assert redact_value(once) == once
    clean = Container(name="app", image="nginx:1.25")
    assert redact_value(clean) is clean


def test_control_characters_and_escapes_never_cross_and_do_not_hide_a_secret() -> None:
    text = f"password=\x1b[1m{PASSWORD}\x1b[0m ok\x07"
    redacted = redact_text(text)
    assert PASSWORD not in redacted and "\x1b" not in redacted and "\x07" not in redacted


def test_call_tool_redacts_data_error_summary_and_arguments() -> None:
    events: list[ToolCallEvent] = []
    result = call_tool(
        "test.read",
        {
            "query": f"DSN={DSN}",
            "workload": Container(name="app", image="x:1", args=["-u", f"admin:{PASSWORD}"]),
        },
        _answer,
        sink=events.append,
        summarize=lambda a: f"read {a.message}",
    )
    assert result.ok and result.data is not None
    [event] = events
    shown = (
        _text(result.data)
        + _text(event.arguments)
        + event.summary
        + event.arguments["workload"].model_dump_json()
    )
    assert PASSWORD not in shown and TOKEN not in shown
    assert event.arguments["query"].startswith("DSN=postgres://app:«redacted:")

    def fails() -> None:
        raise ToolFailure(f'Deployment.apps "web" is invalid: env[0].value: Invalid value: "{DSN}"')

    failed = call_tool("test.write", {}, fails, sink=events.append)
    assert failed.status is ToolStatus.ERROR and failed.error is not None
    assert PASSWORD not in failed.error and PASSWORD not in events[-1].summary
    assert "is invalid" in failed.error


class _Opaque:
    def __init__(self) -> None:
        self.secret = PASSWORD


def test_a_result_that_cannot_be_redacted_is_withheld() -> None:
    events: list[ToolCallEvent] = []
    result = call_tool("test.read", {}, lambda: {"items": [_Opaque()]}, sink=events.append)
    assert result.status is ToolStatus.ERROR and result.data is None
    assert "could not be redacted" in (result.error or "")
    assert events[0].status is ToolStatus.ERROR


def test_times_enums_and_paths_pass_unchanged() -> None:
    now = datetime.now(UTC)
    assert redact_value({"at": now, "status": ToolStatus.OK})["at"] is now
    with pytest.raises(TypeError):
        redact_value(object())
