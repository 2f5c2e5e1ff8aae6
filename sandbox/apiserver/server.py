"""Serving the API on loopback from a background thread (uvicorn with its own event loop)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from sandbox.apiserver.app import KubeApi, LogSource
from sandbox.resources import Registry
from sandbox.store import Store


class ApiServer:
    """The sandbox's kube-apiserver: `start()` returns its base URL, `stop()` frees the port."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        log_source: LogSource | None = None,
        metrics_source: Callable[[], str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox API server binds loopback only")
        self.api = KubeApi(store, registry, log_source, metrics_source)
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url: str | None = None

    def start(self, timeout: float = 10.0) -> str:
        """Bind, serve in a daemon thread, and return `http://host:port` once it accepts requests."""
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # proto must say TCP: asyncio sets TCP_NODELAY only on accepted sockets whose proto is
        # IPPROTO_TCP, and without it Nagle holds each response's body until the client's delayed
        # ACK of its headers (~40 ms per request on Linux).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.api.app(),
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            http="h11",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="sandbox-apiserver", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox API server did not start")
            time.sleep(0.01)
        self.url = f"http://{self._host}:{port}"
        return self.url

    def stop(self) -> None:
        """End open watches, stop serving and join the thread (safe to call twice)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        shutdown = self.api.shutdown
        loop = _loop_of(server)
        if shutdown is not None and loop is not None:
            loop.call_soon_threadsafe(shutdown.set)
        server.should_exit = True
        thread.join(timeout=10)
        self._server = self._thread = None


def _loop_of(server: uvicorn.Server) -> asyncio.AbstractEventLoop | None:
    for srv in getattr(server, "servers", []) or []:
        loop = getattr(srv, "_loop", None)
        if loop is not None:
            return loop
    return None
