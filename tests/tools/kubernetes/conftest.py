"""Fixtures for the Kubernetes tools: a recorded-response API server for unit tests, and the
sandbox cluster for integration tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.kubeconfig import write_kubeconfig as sandbox_kubeconfig
from tests.loopback import QuietHandler, serve_on_loopback
from tests.manifests import selecting_spec
from tools.kubernetes.client import KubeClient
from tools.result import RetryPolicy, ToolCallEvent


def write_kubeconfig(url: str, path: Path, context: str = "test") -> Path:
    """A minimal kubeconfig pointing at `url` without TLS or credentials (the sandbox's own writer)."""
    return sandbox_kubeconfig(url, path, context)


@dataclass(frozen=True)
class Answer:
    """A recorded response."""

    status: int = 200
    body: Any = field(default_factory=dict)  # JSON-serialisable, or bytes sent as they are
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass(frozen=True)
class Seen:
    """A request the fake server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class FakeApi:
    """Answers `(method, path)` with queued answers (the last one repeats); 404 Status otherwise."""

    url: str = ""
    routes: dict[tuple[str, str], list[Answer]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Queue answers for a route."""
        with self.lock:
            self.routes.setdefault((method, path), []).extend(answers)

    def answer(self, request: Seen) -> Answer:
        with self.lock:
            self.seen.append(request)
            queue = self.routes.get((request.method, request.path))
            if not queue:
                return Answer(
                    404, status_body(404, "NotFound", f"no route for {request.method} {request.path}")
                )
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def requests(self, method: str | None = None) -> list[Seen]:
        """Requests received so far (optionally of one method)."""
        with self.lock:
            return [s for s in self.seen if method is None or s.method == method]


def status_body(code: int, reason: str, message: str) -> dict[str, Any]:
    """A `meta/v1 Status` failure body."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            seen = Seen(self.command, parts.path, parse_qs(parts.query), headers, self.read_body())
            answer = api.answer(seen)
            if answer.delay:
                time.sleep(answer.delay)
            payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            self.reply(answer.status, payload, answer.content_type)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return Handler


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A recorded-response Kubernetes API server on a free loopback port."""
    api = FakeApi()
    with serve_on_loopback(_handler(api)) as url:
        api.url = url
        yield api


FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


@pytest.fixture
def kube_for(tmp_path: Path) -> Iterator[Callable[..., KubeClient]]:
    """Build `KubeClient`s from a kubeconfig for a URL (fast retries); all are closed afterwards."""
    made: list[KubeClient] = []

    def make(url: str, timeout: float = 5.0, retry: RetryPolicy = FAST_RETRY) -> KubeClient:
        path = write_kubeconfig(url, tmp_path / f"kubeconfig-{len(made)}")
        kube = KubeClient.from_config(path, timeout=timeout, retry=retry)
        made.append(kube)
        return kube

    yield make
    for kube in made:
        kube.close()


@pytest.fixture
def fake_kube(fake_api: FakeApi, kube_for: Callable[..., KubeClient]) -> KubeClient:
    """A client of the fake API server."""
    return kube_for(fake_api.url)


@dataclass
class Trace:
    """A trace sink that keeps the events."""

    events: list[ToolCallEvent] = field(default_factory=list)

    def __call__(self, event: ToolCallEvent) -> None:
        self.events.append(event)


@pytest.fixture
def trace() -> Trace:
    """A recording trace sink."""
    return Trace()


# -- the sandbox cluster (integration) --------------------------------------------------------------


@dataclass
class SandboxCluster:
    """An in-process sandbox: store, simulation (stepped by the test, so runs are deterministic)
    and the API server on loopback, with a `KubeClient` connected through a kubeconfig."""

    store: Any
    sim: Any
    url: str
    kubeconfig: Path
    kube: KubeClient

    def settle(self, sim_seconds: float = 30.0) -> None:
        """Advance simulated time so controllers and the kubelet act on what was written."""
        self.sim.step(sim_seconds)

    def wait(self, predicate: Callable[[], bool], sim_seconds: float = 900.0) -> bool:
        """Step until `predicate()` holds or `sim_seconds` pass."""
        return bool(self.sim.wait_until(predicate, sim_seconds, step=5.0))

    def create(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create an object directly in the store (setup, not under test)."""
        from sandbox import resources

        rt = {
            "Namespace": resources.NAMESPACES,
            "Deployment": resources.DEPLOYMENTS,
            "Pod": resources.PODS,
            "ConfigMap": resources.CONFIGMAPS,
            "Secret": resources.SECRETS,
        }[kind]
        return dict(self.store.create(rt, obj))

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        """An object as stored right now (None when absent)."""
        from sandbox import resources

        rt = {
            "Deployment": resources.DEPLOYMENTS,
            "Pod": resources.PODS,
            "ReplicaSet": resources.REPLICASETS,
        }[kind]
        found = self.store.find(rt, namespace, name)
        return dict(found) if found is not None else None

    def list(self, kind: str, namespace: str) -> list[dict[str, Any]]:
        """Objects of a kind in a namespace, as stored right now."""
        from sandbox import resources

        rt = {"Pod": resources.PODS, "ReplicaSet": resources.REPLICASETS, "Event": resources.EVENTS}[kind]
        items, _ = self.store.list(rt, namespace=namespace)
        return [dict(i) for i in items]


def sandbox_deployment(
    name: str, *, image: str = "nginx:1.27", memory: str = "64Mi", replicas: int = 2, namespace: str = "shop"
) -> dict[str, Any]:
    """A Deployment manifest for the sandbox (nginx needs ~8Mi; a 4Mi limit OOM-kills it)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": selecting_spec(
            name,
            [
                {
                    "name": "web",
                    "image": image,
                    "ports": [{"containerPort": 80}],
                    "resources": {"requests": {"memory": "4Mi"}, "limits": {"memory": memory}},
                }
            ],
            replicas,
        ),
    }


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxCluster]:
    """A fresh sandbox API server and simulation with namespace `shop`; stopped afterwards."""
    from sandbox.apiserver import ApiServer
    from sandbox.clock import SimClock
    from sandbox.resources import Registry
    from sandbox.simulation import Simulation
    from sandbox.store import Store

    clock = SimClock()
    store = Store(clock=clock.now)
    registry = Registry.with_builtins()
    sim = Simulation(store, registry, clock, seed=7, nodes=2)
    server = ApiServer(store, registry, log_source=sim.logs)
    url = server.start()
    kube: KubeClient | None = None
    try:
        path = sandbox_kubeconfig(url, tmp_path / "kubeconfig")
        kube = KubeClient.from_config(path, timeout=10.0, retry=FAST_RETRY)
        cluster = SandboxCluster(store, sim, url, Path(path), kube)
        cluster.create("Namespace", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}})
        cluster.settle(1.0)
        yield cluster
    finally:
        if kube is not None:
            kube.close()
        server.stop()
        sim.close()
