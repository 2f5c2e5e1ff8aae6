"""Fixtures for the watcher's stream tests: the sandbox's API server over a store the test controls.

Skipped until `sandbox.apiserver` exists. The store, registry and server are created per test so
a test may stop and restart the server (same port, same store) to drop every connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from tests.ports import free_port
from tools.kubernetes.client import api_client_from_config


def require_api_server() -> Any:
    """The sandbox's `ApiServer` class (a broken import fails the test; it never skips)."""
    from sandbox.apiserver import ApiServer

    return ApiServer


def write_kubeconfig(url: str, path: Path) -> Path:
    """A kubeconfig for `url` without TLS or credentials (JSON is valid YAML)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "sandbox", "cluster": {"server": url}}],
        "users": [{"name": "sandbox", "user": {}}],
        "contexts": [{"name": "sandbox", "context": {"cluster": "sandbox", "user": "sandbox"}}],
        "current-context": "sandbox",
    }
    path.write_text(json.dumps(config))
    return path


@dataclass
class Cluster:
    """A store served over HTTP on a fixed port; `drop()` stops the server, `restore()` starts a new one."""

    store: Any
    registry: Any
    port: int
    kubeconfig: Path
    servers: list[Any] = field(default_factory=list)

    def serve(self) -> str:
        server = require_api_server()(self.store, self.registry, port=self.port)
        url = server.start()
        self.servers.append(server)
        return url

    def drop(self) -> None:
        """Stop the server: every open watch connection breaks."""
        while self.servers:
            self.servers.pop().stop()

    def restore(self) -> None:
        """Serve the same store on the same port again."""
        self.serve()

    def api_client(self) -> k8s.ApiClient:
        return api_client_from_config(self.kubeconfig)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A history-limited store (so 410 Gone is reachable) served by the sandbox API server."""
    require_api_server()
    from sandbox.resources import NAMESPACES, Registry
    from sandbox.store import Store

    store = Store(history=50)
    registry = Registry.with_builtins()
    for ns in ("default", "shop", "kube-system"):
        store.create(NAMESPACES, {"metadata": {"name": ns, "labels": {"kubernetes.io/metadata.name": ns}}})
    cluster = Cluster(store, registry, free_port(), tmp_path / "kubeconfig")
    url = cluster.serve()
    write_kubeconfig(url, cluster.kubeconfig)
    try:
        yield cluster
    finally:
        cluster.drop()
