"""Serving: the API server's connections."""

from __future__ import annotations

import socket
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
