"""Local fake LLM servers speaking the real wire protocols, for tests that go through real HTTP.

`FakeLLMServer("openai", turns)` serves `POST /v1/chat/completions` like an OpenAI-compatible server;
`FakeLLMServer("ollama", turns)` serves `POST /api/chat` like Ollama (NDJSON when streaming). Each
request consumes the next scripted `Turn` — or, with a `responder`, whatever it makes of the request
(a scripted model that reads its prompt and the tool results it was given). A structured answer is
delivered the way the client asked for it (as message content for `response_format`/`format`, as a
call of the forced tool for function calling); a turn may instead call tools (arguments as a dict,
or a raw string for malformed JSON), fail with an HTTP status, or answer late. Every request is
kept, parsed in `requests` and as it arrived in `raw` (what left the process), for assertions; a
responder that raises is a 500 the client sees, not a hang. Servers listen on an ephemeral loopback
port through `tests.loopback.serve_on_loopback` (safe in parallel).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal

from tests.loopback import QuietHandler, serve_on_loopback


@dataclass
class Turn:
    """One scripted model reply."""

    answer: dict[str, Any] | None = None  # a structured answer, JSON-encoded on the wire
    text: str | None = None  # raw text instead (e.g. malformed output)
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    input_tokens: int = 100
    output_tokens: int = 20
    status: int = 200  # an HTTP error instead of an answer (with `error` as its message)
    error: str = "scripted failure"

    def payload(self) -> str:
        if self.answer is not None:
            return json.dumps(self.answer)
        return self.text or ""


def forced_tool(body: dict[str, Any]) -> str | None:
    """The tool a request forces (function-calling structured output), if any."""
    choice = body.get("tool_choice")
    return choice.get("function", {}).get("name") if isinstance(choice, dict) else None


class FakeLLMServer:
    """A threaded HTTP server on 127.0.0.1 with a free port; use as a context manager."""

    def __init__(
        self,
        flavour: Literal["openai", "ollama"],
        turns: list[Turn] | None = None,
        responder: Callable[[dict[str, Any]], Turn] | None = None,
    ) -> None:
        self.flavour = flavour
        self.turns = list(turns or [])
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._serving = contextlib.ExitStack()
        self._root = ""
        server = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                raw = self.read_body()
                # the client may have given up already (a timeout test)
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    server._handle(self, raw)

        self._handler = Handler

    @property
    def base_url(self) -> str:
        """What the client is configured with (once the server runs)."""
        return f"{self._root}/v1" if self.flavour == "openai" else self._root

    def __enter__(self) -> FakeLLMServer:
        self._root = self._serving.enter_context(serve_on_loopback(self._handler))
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Wake any late answer and shut the server down."""
        self._stopping.set()
        self._serving.close()

    def sent(self) -> bytes:
        """Every request body received so far, as it arrived, concatenated."""
        with self._lock:
            return b"\n".join(self.raw)

    # --- protocol -------------------------------------------------------------------------------

    def _next_turn(
        self, handler: BaseHTTPRequestHandler, raw: bytes
    ) -> tuple[dict[str, Any], Turn, int] | None:
        body = json.loads(raw or b"{}")
        turn: Turn | None = None
        with self._lock:  # one answer at a time: a responder may keep state
            self.requests.append(body)
            self.raw.append(raw)
            number = len(self.requests)
            try:
                if self.responder is not None:
                    turn = self.responder(body)
                elif self.turns:
                    turn = self.turns.pop(0)
                failure = "no scripted turn left"
            except Exception as exc:  # a broken responder is a server error the client sees, not a hang
                failure = f"{type(exc).__name__}: {exc}"
        if turn is None:
            self._send_json(handler, 500, {"error": {"message": f"fake server: {failure}"}})
            return None
        return body, turn, number

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        expected = "/v1/chat/completions" if self.flavour == "openai" else "/api/chat"
        if handler.path != expected:
            self._send_json(handler, 404, {"error": {"message": f"no route {handler.path}"}})
            return
        scripted = self._next_turn(handler, raw)
        if scripted is None:
            return
        body, turn, number = scripted
        if turn.delay and self._stopping.wait(turn.delay):
            return
        if turn.status != 200:
            error: Any = (
                {"message": turn.error, "type": "server_error"} if self.flavour == "openai" else turn.error
            )
            self._send_json(handler, turn.status, {"error": error})
            return
        if self.flavour == "openai":
            self._send_json(handler, 200, self._openai_reply(body, turn, number))
        else:
            self._ollama_reply(handler, body, turn)

    @staticmethod
    def _openai_reply(body: dict[str, Any], turn: Turn, number: int) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": None}
        calls = list(turn.tool_calls)
        forced = forced_tool(body)
        if not calls and forced and "response_format" not in body:
            calls = [(forced, turn.payload())]  # function-calling structured output
        if calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{number}_{i}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for i, (name, args) in enumerate(calls)
            ]
            finish = "tool_calls"
        else:
            message["content"] = turn.payload()
            finish = "stop"
        return {
            "id": f"chatcmpl-{number}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": {
                "prompt_tokens": turn.input_tokens,
                "completion_tokens": turn.output_tokens,
                "total_tokens": turn.input_tokens + turn.output_tokens,
            },
        }

    def _ollama_reply(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], turn: Turn) -> None:
        model = body.get("model", "fake")
        message: dict[str, Any] = {"role": "assistant", "content": ""}
        if turn.tool_calls:
            message["tool_calls"] = [{"function": {"name": n, "arguments": a}} for n, a in turn.tool_calls]
        else:
            message["content"] = turn.payload()
        final = {
            "model": model,
            "created_at": "2024-05-01T10:00:00Z",
            "message": {"role": "assistant", "content": ""},
            "done": True,
            "done_reason": "stop",
            "total_duration": 1000,
            "prompt_eval_count": turn.input_tokens,
            "eval_count": turn.output_tokens,
        }
        if not body.get("stream", True):
            self._send_json(handler, 200, {**final, "message": message})
            return
        chunk = {"model": model, "created_at": "2024-05-01T10:00:00Z", "message": message, "done": False}
        data = (json.dumps(chunk) + "\n" + json.dumps(final) + "\n").encode()
        assert isinstance(handler, QuietHandler)
        handler.reply(200, data, "application/x-ndjson")

    @staticmethod
    def _send_json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        assert isinstance(handler, QuietHandler)
        handler.reply(status, json.dumps(payload).encode())
