"""Throwaway servers on a free loopback port: a handler that scripts or records a remote API, or an app
served by a real uvicorn."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import uvicorn
from sse_starlette.sse import AppStatus

from tests.ports import LOOPBACK

__all__ = ["LOOPBACK", "QuietHandler", "serve_app_on_loopback", "serve_on_loopback"]


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler for scripted servers: reads a body, answers one, logs nothing."""

    def read_body(self) -> bytes:
        """The request's body (empty without a Content-Length)."""
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def reply(
        self,
        status: int,
        payload: bytes,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `payload` with `status` (and any extra `headers`); a client that gave up already (a
        timeout test) gets nothing."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


@contextmanager
def serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port in a daemon thread; yields the base URL, shuts down on exit."""
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def serve_app_on_loopback(app: Any, *, log_level: str = "warning", grace: int = 2) -> Iterator[str]:
    """Serve the ASGI `app` with a real uvicorn on a free loopback port in a thread; yields the base URL.

    A client that needs a real socket (a browser, Alertmanager, an SSE reader) talks to it; leaving the
    block stops uvicorn, and a server that does not stop within 10 s fails the test.
    """
    # sse-starlette keeps a process-wide "server is exiting" flag that closes every stream; a
    # server stopped earlier in this pytest process must not leave it set for this one.
    AppStatus.should_exit = False
    config = uvicorn.Config(
        app, host=LOOPBACK, port=0, log_level=log_level, lifespan="off", timeout_graceful_shutdown=grace
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 10 s"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive(), "uvicorn did not shut down"
