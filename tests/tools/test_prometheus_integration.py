"""The PromQL templates against a REAL Prometheus scraping an OOM-shaped metrics endpoint."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from tests.tools.conftest import MetricsEndpoint, PrometheusServer
from tools.prometheus import TEMPLATES, PrometheusClient, QueryResult, Workload, template
from tools.result import NO_RETRY, ToolCallEvent, ToolResult, ToolStatus

pytestmark = pytest.mark.integration


def eventually(
    fetch: Callable[[], ToolResult[QueryResult]],
    ready: Callable[[QueryResult], bool] = lambda r: not r.empty,
    timeout: float = 20.0,
) -> QueryResult:
    """Poll until the query succeeds and `ready` holds (rate() needs two scrapes, ranges need time)."""
    deadline = time.monotonic() + timeout
    last: ToolResult[QueryResult] | None = None
    while time.monotonic() < deadline:
        last = fetch()
        assert last.status is ToolStatus.OK, last.error
        assert last.data is not None
        if ready(last.data):
            return last.data
        time.sleep(0.5)
    raise AssertionError(f"condition not met within {timeout}s; last answer: {last}")


@pytest.fixture(scope="module")
def client(prometheus: PrometheusServer) -> PrometheusClient:
    return PrometheusClient(prometheus.url, timeout=5.0)


@pytest.fixture(scope="module")
def shape(oom_metrics: MetricsEndpoint):
    return oom_metrics.shape


def by_pod(result: QueryResult) -> dict[str, float]:
    values = {}
    for series in result.series:
        latest = series.latest()
        assert latest is not None
        values[series.labels["pod"]] = latest.value
    return values


def test_every_template_is_valid_promql_for_real_prometheus(client: PrometheusClient, shape) -> None:
    for name in TEMPLATES:
        result = client.query_template(name, shape.namespace, shape.workload)
        assert result.status is ToolStatus.OK, f"{name}: {result.error}"


def test_memory_working_set_vs_limit_shows_the_oom_pod_near_its_limit(
    client: PrometheusClient, shape
) -> None:
    ratio = eventually(lambda: client.query_template("memory_limit_ratio", shape.namespace, shape.workload))
    values = by_pod(ratio)
    # Only the workload's own pods, only the app container (not the pod cgroup nor the pause container).
    assert set(values) == {shape.oom_pod, shape.healthy_pod}
    assert {s.labels["container"] for s in ratio.series} == {shape.container}
    assert 0.85 <= values[shape.oom_pod] <= 1.0
    assert values[shape.healthy_pod] == pytest.approx(0.5)

    limit = client.query_template("memory_limit", shape.namespace, shape.workload).data
    assert limit is not None
    assert by_pod(limit) == {shape.oom_pod: shape.limit_bytes, shape.healthy_pod: shape.limit_bytes}

    working_set = client.query_template("memory_working_set", shape.namespace, shape.workload).data
    assert working_set is not None
    assert by_pod(working_set)[shape.healthy_pod] == pytest.approx(0.5 * shape.limit_bytes)


def test_working_set_reaches_the_limit_over_a_range(client: PrometheusClient, shape) -> None:
    def fetch() -> ToolResult[QueryResult]:
        now = datetime.now(UTC)
        return client.query_range(
            template("memory_limit_ratio").render(Workload(shape.namespace, shape.workload)),
            start=now - timedelta(seconds=30),
            end=now,
            step=timedelta(seconds=1),
        )

    result = eventually(fetch, lambda r: any((s.max() or 0) >= 0.95 for s in r.where(pod=shape.oom_pod)))
    assert result.result_type == "matrix"
    (oom,) = result.where(pod=shape.oom_pod)
    assert len(oom.samples) >= 2
    assert all(0.85 <= v <= 1.0 for v in oom.values())


def test_restarts_increase_while_the_pod_crash_loops(client: PrometheusClient, shape) -> None:
    def fetch() -> ToolResult[QueryResult]:
        now = datetime.now(UTC)
        promql = template("restarts").render(Workload(shape.namespace, shape.workload))
        return client.query_range(promql, start=now - timedelta(seconds=60), end=now, step=1.0)

    def grew(r: QueryResult) -> bool:
        series = r.where(pod=shape.oom_pod)
        return bool(series) and series[0].values()[-1] > series[0].values()[0]

    result = eventually(fetch, grew, timeout=3 * shape.cycle + 10)
    (oom,) = result.where(pod=shape.oom_pod)
    values = oom.values()
    assert values[0] >= shape.initial_restarts
    assert values == sorted(values)  # a restart count never goes down
    (healthy,) = result.where(pod=shape.healthy_pod)
    assert set(healthy.values()) == {0.0}
    assert not result.where(pod=shape.sibling_pod)

    increase = eventually(
        lambda: client.query_template("restarts_increase", shape.namespace, shape.workload, window="1m"),
        lambda r: by_pod(r).get(shape.oom_pod, 0) > 0,
    )
    assert by_pod(increase)[shape.healthy_pod] == 0


def test_waiting_reason_names_crash_loop_back_off(client: PrometheusClient, shape) -> None:
    result = eventually(lambda: client.query_template("waiting_reason", shape.namespace, shape.workload))
    assert [(s.labels["pod"], s.labels["reason"]) for s in result.series] == [
        (shape.oom_pod, "CrashLoopBackOff")
    ]


def test_replicas_unavailable_is_per_deployment(client: PrometheusClient, shape) -> None:
    result = eventually(
        lambda: client.query_template("replicas_unavailable", shape.namespace, shape.workload)
    )
    (series,) = result.series
    assert series.labels["deployment"] == shape.workload
    assert series.values() == [1.0]


def test_cpu_usage_is_a_rate_in_cores(client: PrometheusClient, shape) -> None:
    # rate() divides by the whole window, so it reads low until the series is older than the
    # window; a short window lets it settle within a few scrapes.
    def settled(r: QueryResult) -> bool:
        values = by_pod(r)
        return shape.oom_pod in values and values[shape.oom_pod] == pytest.approx(shape.cpu_cores, rel=0.2)

    result = eventually(
        lambda: client.query_template("cpu_usage", shape.namespace, shape.workload, window="5s"), settled
    )
    values = by_pod(result)
    assert values[shape.healthy_pod] == pytest.approx(0.1, rel=0.2)
    assert shape.sibling_pod not in values
    assert {s.labels["container"] for s in result.series} == {shape.container}


def test_http_5xx_ratio_counts_only_the_workloads_pods(client: PrometheusClient, shape) -> None:
    result = eventually(lambda: client.query_template("http_5xx_ratio", shape.namespace, shape.workload))
    (series,) = result.series
    latest = series.latest()
    assert latest is not None
    # With the sibling's 500s leaking in, this would be about 0.4.
    assert latest.value == pytest.approx(shape.error_share, abs=0.02)


def test_latency_p95_falls_in_the_expected_bucket(client: PrometheusClient, shape) -> None:
    result = eventually(
        lambda: client.query_template("latency_p95", shape.namespace, shape.workload),
        lambda r: not r.empty and not math.isnan(r.series[0].values()[-1]),
    )
    (series,) = result.series
    p95 = series.values()[-1]
    # 90% of requests are <= 0.25s and 97% <= 0.5s, so p95 interpolates to about 0.43s.
    assert 0.25 < p95 <= 0.5


def test_template_call_is_traced_with_its_arguments(client: PrometheusClient, shape) -> None:
    events: list[ToolCallEvent] = []
    result = client.query_template("restarts", shape.namespace, shape.workload, sink=events.append)
    assert result.ok
    (event,) = events
    assert event.tool == "prometheus.query"
    assert event.arguments["template"] == "restarts"
    assert event.arguments["namespace"] == shape.namespace
    assert "kube_pod_container_status_restarts_total" in event.arguments["query"]
    assert event.summary.startswith("2 series")


def test_bad_promql_is_an_error_carrying_prometheus_message(prometheus: PrometheusServer) -> None:
    client = PrometheusClient(prometheus.url, retry=NO_RETRY)
    result = client.query("sum(rate(http_requests_total[5m])")
    assert result.status is ToolStatus.ERROR
    assert result.error is not None
    assert result.error.startswith("bad PromQL:")
    assert "parse error" in result.error


def test_instant_query_at_a_past_time(client: PrometheusClient, shape) -> None:
    eventually(lambda: client.query_template("restarts", shape.namespace, shape.workload))
    result = client.query(
        f'kube_deployment_status_replicas_unavailable{{deployment="{shape.workload}"}}',
        at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert result.ok and result.data is not None
    (series,) = result.data.series
    assert series.name == "kube_deployment_status_replicas_unavailable"
    assert series.labels["namespace"] == shape.namespace


def test_fractional_timeout_is_accepted_by_prometheus(prometheus: PrometheusServer) -> None:
    result = PrometheusClient(prometheus.url, timeout=0.5, retry=NO_RETRY).query("up")
    assert result.status is ToolStatus.OK, result.error
    assert result.data is not None and result.data.series[0].values() == [1.0]
