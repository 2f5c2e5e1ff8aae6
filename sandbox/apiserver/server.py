"""Serving the API on loopback from a background thread (uvicorn with its own event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from sandbox.apiserver.app import KubeApi, LogSource
from sandbox.resources import Registry
from sandbox.store import Store

# How often the shutdown looks whether the last connections have closed; they usually have
# within a loop turn or two of being told to.
_DRAIN_POLL_SECONDS = 0.005


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
        self._server: _PromptServer | None = None
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
        self._server = _PromptServer(config)
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
        server.request_exit(self.api.shutdown)
        thread.join(timeout=10)
        self._server = self._thread = None


class _PromptServer(uvicorn.Server):
    """uvicorn's server, exiting as soon as it is asked.

    uvicorn looks at `should_exit` every 0.1 s, and its shutdown sleeps 0.1 s before looking every
    0.1 s whether the connections have closed: about 0.2 s per stop, and a test run starts and
    stops the sandbox hundreds of times. Here the exit is an event, and the drain looks every few
    milliseconds, within the same graceful-shutdown timeout.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._exit = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)

    def request_exit(self, also: asyncio.Event | None = None) -> None:
        """From any thread: set `also` (the API's watch shutdown) and leave the main loop."""
        self.should_exit = True
        loop = self._loop
        if loop is None:
            return  # not serving yet: startup's end sees should_exit
        for event in (also, self._exit):
            if event is not None:
                try:
                    loop.call_soon_threadsafe(event.set)
                except RuntimeError:  # the loop has already closed (the server thread died)
                    return

    async def main_loop(self) -> None:
        # on_tick refreshes the Date header when its counter is a multiple of 10 (once a second in
        # uvicorn's own loop) and reports should_exit.
        while not await self.on_tick(0):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._exit.wait(), timeout=1.0)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()  # idle keep-alive connections close now, busy ones after their response
        try:
            await asyncio.wait_for(self._drain(), timeout=self.config.timeout_graceful_shutdown)
        except TimeoutError:
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drain(self) -> None:
        state = self.server_state
        while (state.connections or state.tasks) and not self.force_exit:
            await asyncio.sleep(_DRAIN_POLL_SECONDS)
        for server in self.servers:
            await server.wait_closed()
