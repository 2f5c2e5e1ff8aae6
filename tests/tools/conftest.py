"""Fixtures for the tools tests: a real Prometheus server, an OOM-shaped metrics endpoint, and a
local HTTP receiver that records what it is sent.

`prometheus` scrapes the OOM endpoint by default; parametrize it indirectly with another metrics
URL (e.g. the sandbox's) to point a real Prometheus at that instead:

    @pytest.mark.parametrize("prometheus", [sandbox_metrics_url], indirect=True)
"""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

from tests import system_packages
from tests.loopback import LOOPBACK, QuietHandler, serve_on_loopback
from tests.ports import free_port
from tests.processes import stop_process

# -- the OOM-shaped metrics endpoint ------------------------------------------------------------

MIB = 1024 * 1024


@dataclass(frozen=True)
class OomShape:
    """What the exposition serves, so tests can assert against the same numbers.

    `checkout` has two pods; pod A climbs towards its memory limit, is "OOM-killed" every
    `cycle` seconds (its restart count goes up and its memory drops back) and sits in
    CrashLoopBackOff; pod B is healthy. `checkout-worker` is a sibling workload whose pods must
    not be mistaken for `checkout`'s.
    """

    namespace: str = "shop"
    workload: str = "checkout"
    oom_pod: str = "checkout-7d9f8c6b5-x2x4z"
    healthy_pod: str = "checkout-7d9f8c6b5-q8w7r"
    sibling: str = "checkout-worker"
    sibling_pod: str = "checkout-worker-5c7d9f4b8-abcde"
    container: str = "app"
    limit_bytes: float = 256 * MIB
    cycle: float = 5.0
    initial_restarts: int = 3
    cpu_cores: float = 0.25  # pod A's CPU use
    requests_per_second: float = 100.0  # over both checkout pods
    error_share: float = 0.10  # 5xx share of checkout's requests
    # Cumulative share of requests at or below each bucket bound: p95 falls in (0.25, 0.5].
    latency_cdf: tuple[tuple[str, float], ...] = (
        ("0.05", 0.20),
        ("0.1", 0.50),
        ("0.25", 0.90),
        ("0.5", 0.97),
        ("1.0", 0.99),
        ("2.5", 1.0),
        ("+Inf", 1.0),
    )

    def oom_ratio(self, elapsed: float) -> float:
        """Pod A's working set over its limit: from 0.85 up to (almost) 1, then back."""
        return 0.85 + 0.15 * ((elapsed % self.cycle) / self.cycle)

    def oom_restarts(self, elapsed: float) -> int:
        """Pod A's restart count: one more every cycle."""
        return self.initial_restarts + math.floor(elapsed / self.cycle)


class OomCollector(Collector):
    """Serves cAdvisor / kube-state-metrics / app style series computed from the elapsed time."""

    def __init__(self, shape: OomShape, clock: Callable[[], float] = time.monotonic) -> None:
        self._shape = shape
        self._clock = clock
        self._start = clock()

    def collect(self) -> Iterator[Any]:
        s, t = self._shape, self._clock() - self._start
        pod_labels = ["namespace", "pod", "container"]
        ws = GaugeMetricFamily("container_memory_working_set_bytes", "Working set.", labels=pod_labels)
        limit = GaugeMetricFamily("container_spec_memory_limit_bytes", "Memory limit.", labels=pod_labels)
        cpu = CounterMetricFamily("container_cpu_usage_seconds", "CPU time.", labels=pod_labels)
        oom_ws = s.limit_bytes * s.oom_ratio(t)
        for pod, used, cores in (
            (s.oom_pod, oom_ws, s.cpu_cores),
            (s.healthy_pod, 0.5 * s.limit_bytes, 0.1),
            (s.sibling_pod, 0.2 * s.limit_bytes, 2.0),
        ):
            ws.add_metric([s.namespace, pod, s.container], used)
            limit.add_metric([s.namespace, pod, s.container], s.limit_bytes)
            cpu.add_metric([s.namespace, pod, s.container], 1000.0 + cores * t)
            # Real cAdvisor also reports the pod cgroup and the pause container; templates skip them.
            ws.add_metric([s.namespace, pod, ""], used + 50 * MIB)
            ws.add_metric([s.namespace, pod, "POD"], 1 * MIB)
            limit.add_metric([s.namespace, pod, "POD"], 0.0)
        yield from (ws, limit, cpu)

        restarts = CounterMetricFamily("kube_pod_container_status_restarts", "Restarts.", labels=pod_labels)
        restarts.add_metric([s.namespace, s.oom_pod, s.container], s.oom_restarts(t))
        restarts.add_metric([s.namespace, s.healthy_pod, s.container], 0)
        restarts.add_metric([s.namespace, s.sibling_pod, s.container], 7)
        yield restarts

        waiting = GaugeMetricFamily(
            "kube_pod_container_status_waiting_reason", "Waiting reason.", labels=[*pod_labels, "reason"]
        )
        for pod in (s.oom_pod, s.healthy_pod, s.sibling_pod):
            for reason in ("CrashLoopBackOff", "ImagePullBackOff", "ContainerCreating"):
                flag = 1.0 if pod == s.oom_pod and reason == "CrashLoopBackOff" else 0.0
                waiting.add_metric([s.namespace, pod, s.container, reason], flag)
        yield waiting

        unavailable = GaugeMetricFamily(
            "kube_deployment_status_replicas_unavailable", "Unavailable.", labels=["namespace", "deployment"]
        )
        unavailable.add_metric([s.namespace, s.workload], 1)
        unavailable.add_metric([s.namespace, s.sibling], 0)
        yield unavailable

        requests = CounterMetricFamily("http_requests", "Requests.", labels=["namespace", "pod", "code"])
        duration = HistogramMetricFamily(
            "http_request_duration_seconds", "Latency.", labels=["namespace", "pod"]
        )
        half = s.requests_per_second / 2 * t
        errors = s.error_share * s.requests_per_second * t  # all on the OOM pod
        requests.add_metric([s.namespace, s.oom_pod, "200"], half - errors)
        requests.add_metric([s.namespace, s.oom_pod, "500"], errors)
        requests.add_metric([s.namespace, s.healthy_pod, "200"], half)
        requests.add_metric([s.namespace, s.sibling_pod, "500"], 50.0 * t)  # must not leak into checkout
        for pod in (s.oom_pod, s.healthy_pod):
            buckets = [(le, share * half) for le, share in s.latency_cdf]
            duration.add_metric([s.namespace, pod], buckets, sum_value=0.2 * half)
        slow = [(le, (1.0 if le in ("2.5", "+Inf") else 0.0) * 10.0 * t) for le, _ in s.latency_cdf]
        duration.add_metric([s.namespace, s.sibling_pod], slow, sum_value=20.0 * t)
        yield requests
        yield duration


@dataclass(frozen=True)
class MetricsEndpoint:
    """A running exposition server."""

    url: str
    shape: OomShape


@pytest.fixture(scope="module")
def oom_metrics() -> Iterator[MetricsEndpoint]:
    """An HTTP /metrics endpoint on loopback serving the OOM shape."""
    shape = OomShape()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OomCollector(shape))
    server, thread = start_http_server(0, addr=LOOPBACK, registry=registry)
    try:
        yield MetricsEndpoint(f"http://{LOOPBACK}:{server.server_port}/metrics", shape)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# -- a real Prometheus ----------------------------------------------------------------------------


@dataclass
class PrometheusServer:
    """A Prometheus process started by a fixture."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        """What Prometheus wrote to stderr/stdout so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Block until /-/ready answers 200; fail with Prometheus's log if it died or stalled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"prometheus not ready after {timeout}s:\n{self.log()}")

    def wait_scraped(self, timeout: float = 30.0) -> None:
        """Block until every target has been scraped successfully at least once."""
        deadline = time.monotonic() + timeout
        targets: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            body = httpx.get(f"{self.url}/api/v1/targets", timeout=2.0).json()
            targets = body["data"]["activeTargets"]
            if targets and all(t["health"] == "up" for t in targets):
                return
            time.sleep(0.2)
        raise TimeoutError(f"targets not up after {timeout}s: {json.dumps(targets)[:2000]}")


def prometheus_config(targets: Sequence[str], scrape_interval: str) -> str:
    """A Prometheus config with one job per metrics URL (scheme, host:port and path from the URL)."""
    jobs = []
    for i, target in enumerate(targets):
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"metrics target must be an http(s) URL, got {target!r}")
        jobs.append(
            {
                "job_name": f"target-{i}",
                "scheme": parts.scheme,
                "metrics_path": parts.path or "/metrics",
                # Keep the exposed namespace/pod labels as they are, as kube-state-metrics setups do.
                "honor_labels": True,
                "static_configs": [{"targets": [parts.netloc]}],
            }
        )
    config = {
        "global": {"scrape_interval": scrape_interval, "scrape_timeout": scrape_interval},
        "scrape_configs": jobs,
    }
    return json.dumps(config, indent=2)  # JSON is valid YAML


@pytest.fixture(scope="module")
def prometheus_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., PrometheusServer]]:
    """Start real Prometheus servers scraping given metrics URLs; all are stopped afterwards."""
    binary = system_packages.require("prometheus")
    started: list[PrometheusServer] = []

    def start(targets: Sequence[str], scrape_interval: str = "1s") -> PrometheusServer:
        workdir = tmp_path_factory.mktemp("prometheus")
        config = workdir / "prometheus.yml"
        config.write_text(prometheus_config(targets, scrape_interval))
        last_error: Exception | None = None
        for _ in range(3):  # the free port may be taken between picking and binding it
            port = free_port()
            log_path = workdir / f"prometheus-{port}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [
                        binary,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={workdir / 'data'}",
                        f"--web.listen-address={LOOPBACK}:{port}",
                        "--log.level=warn",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            server = PrometheusServer(f"http://{LOOPBACK}:{port}", process, log_path)
            started.append(server)
            try:
                server.wait_ready()
            except RuntimeError as exc:
                last_error = exc
                continue
            server.wait_scraped()
            return server
        raise RuntimeError(f"could not start prometheus: {last_error}")

    yield start
    for server in started:
        stop_process(server.process)


@pytest.fixture(scope="module")
def prometheus(
    request: pytest.FixtureRequest, prometheus_factory: Callable[..., PrometheusServer]
) -> PrometheusServer:
    """A real Prometheus scraping every second: the OOM endpoint, or the URL given by indirect
    parametrization (a string or a list of strings)."""
    target = getattr(request, "param", None)
    if target is None:
        target = request.getfixturevalue("oom_metrics").url
    targets = [target] if isinstance(target, str) else list(target)
    return prometheus_factory(targets)


# -- a local HTTP receiver ------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Reply:
    """What the receiver answers: status, body, content type, and a delay before answering."""

    status: int = 200
    body: bytes = b"ok"
    content_type: str = "text/plain"
    delay: float = 0.0


@dataclass
class Receiver:
    """Records every request; answers with queued replies first, then with `default`."""

    url: str = ""  # set once the server has its port
    default: Reply = field(default_factory=Reply)
    _queue: list[Reply] = field(default_factory=list)
    _received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reply(self, *replies: Reply) -> None:
        """Queue replies for the next requests, in order."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def received(self) -> list[Received]:
        """A snapshot of the requests so far."""
        with self._lock:
            return list(self._received)

    def _next(self, request: Received) -> Reply:
        with self._lock:
            self._received.append(request)
            return self._queue.pop(0) if self._queue else self.default


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        def _handle(self) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = receiver._next(Received(self.command, self.path, headers, self.read_body()))
            if reply.delay:
                time.sleep(reply.delay)
            self.reply(reply.status, reply.body, reply.content_type)

        do_GET = do_POST = do_PUT = _handle

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A recording HTTP server on a free loopback port."""
    receiver = Receiver()
    with serve_on_loopback(_handler(receiver)) as url:
        receiver.url = url
        yield receiver


@pytest.fixture
def refused_url() -> str:
    """An http URL on a loopback port where nothing listens (connection refused)."""
    return f"http://{LOOPBACK}:{free_port()}"
