"""Shared set-up for the API server tests: a store, the server on a free port and clients for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubernetes import client, config

from sandbox.apiserver import ApiServer
from sandbox.garbage_collector import GarbageCollector
from sandbox.kubeconfig import write_kubeconfig
from sandbox.resources import NAMESPACES, Registry
from sandbox.store import ApiError, Store
from tests.manifests import selecting_spec

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class FakeLogs:
    """A log source: pod `web` has a current and a previous container instance, others no host."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, bool]] = []

    def read(self, namespace: str, pod: str, container: str | None = None, previous: bool = False):
        self.calls.append((namespace, pod, container, previous))
        if pod != "web":
            raise ApiError(400, "BadRequest", f"pod {pod} does not have a host assigned")
        if previous:
            return [(NOW, "previous: boom"), (NOW + timedelta(seconds=1), "previous: Killed")]
        return [(NOW + timedelta(seconds=i), f"line {i}") for i in range(10)]


class Api:
    """Typed clients of the official `kubernetes` package, pointed at one server."""

    def __init__(self, store: Store, registry: Registry, url: str, kubeconfig: Path, logs: FakeLogs) -> None:
        self.store, self.registry, self.url, self.logs = store, registry, url, logs
        self.client = config.new_client_from_config(str(kubeconfig))
        self.core = client.CoreV1Api(self.client)
        self.apps = client.AppsV1Api(self.client)
        self.custom = client.CustomObjectsApi(self.client)
        self.ext = client.ApiextensionsV1Api(self.client)


@contextmanager
def serve(tmp_path: Path) -> Iterator[Api]:
    """An API server (with a garbage collector) over a store holding namespace `shop`; the clock
    reads one hour after NOW, so the fake logs' timestamps are an hour old."""
    store = Store(clock=lambda: NOW + timedelta(hours=1))
    registry = Registry.with_builtins()
    store.create(NAMESPACES, {"metadata": {"name": "shop"}})
    gc = GarbageCollector(store, registry)
    gc.start()
    logs = FakeLogs()
    server = ApiServer(store, registry, log_source=logs, metrics_source=lambda: "up 1\n")
    url = server.start()
    try:
        yield Api(store, registry, url, write_kubeconfig(url, tmp_path / "kubeconfig"), logs)
    finally:
        server.stop()
        gc.stop()


def deployment(name: str = "web", replicas: int = 1) -> dict:
    """A two-container Deployment manifest."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": selecting_spec(
            name,
            [
                {"name": "app", "image": "web:1", "env": [{"name": "A", "value": "1"}]},
                {"name": "sidecar", "image": "proxy:2"},
            ],
            replicas,
        ),
    }


def pod(name: str, labels: dict[str, str] | None = None) -> dict:
    """A one-container Pod manifest."""
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [{"name": "c", "image": "i"}]},
    }
