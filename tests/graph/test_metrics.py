"""Metric evidence: memory against its limit, restarts and 5xx as items, and honest gaps without them."""

from __future__ import annotations

import math

from agent.domain import WorkloadRef
from graph.metric_evidence import error_ratio, metric_evidence
from tests.ports import LOOPBACK, free_port
from tools.prometheus import PrometheusClient, QueryResult, Sample, Series
from tools.result import ToolResult, ToolStatus

TARGET = WorkloadRef(namespace="shop", name="web-api")
MI = 2**20


def _vector(*series: tuple[dict[str, str], float]) -> QueryResult:
    return QueryResult(
        "q", "vector", tuple(Series(labels, (Sample(1000.0, value),)) for labels, value in series)
    )


class FakePrometheus:
    """Answers each template with a canned result (missing: an ERROR)."""

    configured = True

    def __init__(self, **answers: QueryResult) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def query_template(self, name: str, namespace: str, workload: str, *, sink) -> ToolResult[QueryResult]:
        self.asked.append(name)
        if name in self.answers:
            return ToolResult("prometheus.query", ToolStatus.OK, data=self.answers[name])
        return ToolResult("prometheus.query", ToolStatus.ERROR, error=f"{name} failed")


def test_memory_is_reported_for_the_pod_nearest_its_limit() -> None:
    prometheus = FakePrometheus(
        memory_working_set=_vector(
            ({"pod": "a", "container": "app"}, 30 * MI), ({"pod": "b", "container": "app"}, 60 * MI)
        ),
        memory_limit=_vector(
            ({"pod": "a", "container": "app"}, 32 * MI), ({"pod": "b", "container": "app"}, 128 * MI)
        ),
        restarts=_vector(({"pod": "a", "container": "app"}, 4), ({"pod": "b", "container": "app"}, 3)),
        http_5xx_ratio=_vector(({}, 0.25)),
    )
    items, gaps = metric_evidence(prometheus, TARGET)  # type: ignore[arg-type]
    by_id = {item.id: item for item in items}
    memory = by_id["metric:container_memory_working_set_bytes:app"]
    assert memory.data["pod"] == "a", "30 of 32Mi is closer to the limit than 60 of 128Mi"
    assert memory.text == "container app working set 30Mi of a 32Mi limit"
    assert by_id["metric:kube_pod_container_status_restarts_total:app"].data["value"] == 7
    assert by_id["metric:http_5xx_ratio:web-api"].text.startswith("25.0% of HTTP requests")
    assert gaps == []


def test_failing_queries_become_gaps_and_nan_is_not_evidence() -> None:
    prometheus = FakePrometheus(memory_working_set=_vector(({"pod": "a", "container": "app"}, math.nan)))
    items, gaps = metric_evidence(prometheus, TARGET)  # type: ignore[arg-type]
    assert items == []
    assert gaps == [
        "metrics: memory limits: memory_limit failed",
        "metrics: restarts: restarts failed",
        "metrics: 5xx ratio: http_5xx_ratio failed",
        "metrics: Prometheus has no series for shop/deployment/web-api",
    ]


def test_without_prometheus_the_gap_says_so() -> None:
    assert metric_evidence(None, TARGET) == ([], ["metrics: no Prometheus configured"])
    assert error_ratio(PrometheusClient(None), TARGET) == (None, "no Prometheus configured")


def test_an_unreachable_prometheus_is_one_gap_not_four() -> None:
    client = PrometheusClient(f"http://{LOOPBACK}:{free_port()}")
    items, gaps = metric_evidence(client, TARGET)
    assert items == [] and len(gaps) == 1
    assert gaps[0].startswith("metrics: Prometheus did not answer (unavailable")
    ratio, why = error_ratio(client, TARGET)
    assert ratio is None and why.startswith("Prometheus did not answer")


def test_error_ratio_reads_the_measured_value() -> None:
    prometheus = FakePrometheus(http_5xx_ratio=_vector(({}, 0.02)))
    assert error_ratio(prometheus, TARGET) == (0.02, "measured")  # type: ignore[arg-type]
    assert error_ratio(FakePrometheus(http_5xx_ratio=_vector()), TARGET) == (None, "no HTTP traffic measured")  # type: ignore[arg-type]
