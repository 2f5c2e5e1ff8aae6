"""Serving: the API server's connections and its stop (watches ended, connections closed, port freed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from sandbox.apiserver import ApiServer
from sandbox.resources import NAMESPACES, Registry
from sandbox.store import Store


@pytest.fixture
def server() -> Iterator[ApiServer]:
    store = Store()
    store.create(NAMESPACES, {"metadata": {"name": "shop"}})
    api = ApiServer(store, Registry.with_builtins())
    api.start()
    yield api
    api.stop()


def _server_connections(api: ApiServer) -> list[socket.socket]:
    running = api._server  # the uvicorn server: its live connections are what is under test
    assert running is not None
    return [c.transport.get_extra_info("socket") for c in list(running.server_state.connections)]


def test_accepted_connections_send_without_nagle_delay(server: ApiServer) -> None:
    # Without TCP_NODELAY a response's body waits for the client's delayed ACK of its headers:
    # ~40 ms per request, most of what a test spent talking to the sandbox.
    with httpx.Client() as client:
        assert client.get(f"{server.url}/healthz").text == "ok"
        sockets = _server_connections(server)
        assert sockets
        assert all(s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) for s in sockets)


def test_stop_ends_watches_closes_keep_alive_connections_and_frees_the_port(server: ApiServer) -> None:
    url = server.url
    assert url is not None
    port = int(url.rsplit(":", 1)[1])
    watch_lines: list[str] = []
    watching = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{url}/api/v1/namespaces?watch=1&timeoutSeconds=60", timeout=30) as r:
            for line in r.iter_lines():
                watch_lines.append(line)
                watching.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert watching.wait(10), "the watch sent the existing namespace"
    with httpx.Client() as idle:
        idle.get(f"{url}/version").raise_for_status()  # a keep-alive connection left open
        assert len(_server_connections(server)) == 2
        thread = server._thread
        server.stop()
        watcher.join(timeout=5)
        assert not watcher.is_alive(), "the watch stream ended with the server"
        assert thread is not None and not thread.is_alive(), "the serving thread is joined"
        with pytest.raises(httpx.TransportError):
            idle.get(f"{url}/version")
    assert '"name":"shop"' in watch_lines[0]
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API port must be freed"
    server.stop()  # twice is fine
