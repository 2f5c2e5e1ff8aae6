"""An OpenAI-compatible chat completions server whose every answer is a function of the request.

Unlike `tests.agent.fake_llm.FakeLLMServer` (a fixed queue of turns), `ScriptedModel(policy)` asks
`policy(body)` what to answer, so several clients (the analyst, the chat agent) can share it in
any order, and it keeps every request body exactly as it arrived (`raw`), for assertions on what
left the process. A `Structured` answer is delivered the way the client asked for it: as message
content for `response_format`, as a call of the forced tool for function calling.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import serve_on_loopback


@dataclass(frozen=True)
class Text:
    """A plain text answer (the chat agent's final answer)."""

    text: str


@dataclass(frozen=True)
class ToolCalls:
    """Calls of the tools the request offered: (name, arguments)."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Structured:
    """A structured answer (the analyst's diagnosis), as JSON."""

    answer: dict[str, Any]


Reply = Text | ToolCalls | Structured
Policy = Callable[[dict[str, Any]], Reply]


def offered_tools(body: dict[str, Any]) -> list[str]:
    """The names of the tools a request offers the model."""
    return [t.get("function", {}).get("name", "") for t in body.get("tools") or []]


def forced_tool(body: dict[str, Any]) -> str | None:
    """The tool a request forces (function-calling structured output), if any."""
    choice = body.get("tool_choice")
    return choice.get("function", {}).get("name") if isinstance(choice, dict) else None


def wants_structured(body: dict[str, Any]) -> bool:
    """True when the request asks for a structured answer (response_format or a forced tool)."""
    return "response_format" in body or forced_tool(body) is not None


def has_tool_results(body: dict[str, Any]) -> bool:
    """True when the conversation already holds a tool result."""
    return any(m.get("role") == "tool" for m in body.get("messages") or [])


class ScriptedModel:
    """A threaded HTTP server on 127.0.0.1 with a free port; use as a context manager."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.raw: list[bytes] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._serving = contextlib.ExitStack()
        self._base = ""
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server._handle(self, raw)

        self._handler = Handler

    @property
    def base_url(self) -> str:
        """What the OpenAI client is configured with (once the server runs)."""
        return f"{self._base}/v1"

    def __enter__(self) -> ScriptedModel:
        self._base = self._serving.enter_context(serve_on_loopback(self._handler))
        return self

    def __exit__(self, *exc: object) -> None:
        self._serving.close()

    def sent(self) -> bytes:
        """Every request body received so far, concatenated."""
        with self._lock:
            return b"\n".join(self.raw)

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        if handler.path != "/v1/chat/completions":
            self._send(handler, 404, {"error": {"message": f"no route {handler.path}"}})
            return
        body = json.loads(raw or b"{}")
        with self._lock:
            self.raw.append(raw)
            self.bodies.append(body)
            number = len(self.bodies)
        try:
            reply = self.policy(body)
        except Exception as exc:  # a broken policy is a server error the client sees, not a hang
            self._send(handler, 500, {"error": {"message": f"scripted model: {type(exc).__name__}: {exc}"}})
            return
        self._send(handler, 200, self._completion(body, reply, number))

    @staticmethod
    def _completion(body: dict[str, Any], reply: Reply, number: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        calls: list[tuple[str, Any]] = []
        if isinstance(reply, Structured):
            forced = forced_tool(body)
            if forced and "response_format" not in body:
                calls = [(forced, reply.answer)]
            else:
                message["content"] = json.dumps(reply.answer)
        elif isinstance(reply, ToolCalls):
            calls = list(reply.calls)
        else:
            message["content"] = reply.text
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{number}_{i}",
                    "type": "function",
                    "function": {"name": name, "arguments": json.dumps(args)},
                }
                for i, (name, args) in enumerate(calls)
            ]
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
        }

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
