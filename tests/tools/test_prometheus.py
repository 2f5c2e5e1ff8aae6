"""The Prometheus client's failure handling, request shape and result parsing, against a local
HTTP receiver that plays Prometheus's API (the real server is in test_prometheus_integration)."""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest

from tests.tools.conftest import Receiver, Reply
from tools.prometheus import TEMPLATES, PrometheusClient, Workload, template
from tools.prometheus.series import MalformedResponse, parse_query_data
from tools.result import NO_RETRY, RetryPolicy, ToolCallEvent, ToolStatus

FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


def api(body: dict, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(body).encode(), content_type="application/json")


def vector(*items: tuple[dict, str]) -> Reply:
    result = [{"metric": labels, "value": [1_700_000_000.5, value]} for labels, value in items]
    return api({"status": "success", "data": {"resultType": "vector", "result": result}})


def form(receiver: Receiver, index: int = -1) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(receiver.received[index].body.decode()).items()}


# -- not configured, unreachable, transient, timeouts ---------------------------------------------


def test_not_configured_is_unavailable_with_a_clear_message_and_a_trace_event() -> None:
    events: list[ToolCallEvent] = []
    result = PrometheusClient(None).query("up", sink=events.append)
    assert result.status is ToolStatus.UNAVAILABLE
    assert result.data is None
    assert "not configured" in (result.error or "")
    assert "prometheus_url" in (result.error or "")
    (event,) = events
    assert event.status is ToolStatus.UNAVAILABLE
    assert event.arguments["query"] == "up"


def test_unreachable_server_is_unavailable_after_retries(refused_url: str) -> None:
    events: list[ToolCallEvent] = []
    result = PrometheusClient(refused_url, retry=FAST_RETRY).query("up", sink=events.append)
    assert result.status is ToolStatus.UNAVAILABLE
    assert f"cannot reach Prometheus at {refused_url}" in (result.error or "")
    assert len(events) == 1  # one event per tool call, however many attempts


def test_transient_503_is_retried_until_it_succeeds(receiver: Receiver) -> None:
    receiver.reply(Reply(503, b"Service Unavailable"), Reply(503, b"Service Unavailable"))
    receiver.default = vector(({"pod": "a"}, "1"))
    result = PrometheusClient(receiver.url, retry=FAST_RETRY).query("up")
    assert result.status is ToolStatus.OK, result.error
    assert len(receiver.received) == 3


def test_persistent_503_ends_unavailable_after_the_configured_attempts(receiver: Receiver) -> None:
    receiver.default = Reply(503, b"Service Unavailable")
    result = PrometheusClient(receiver.url, retry=FAST_RETRY).query("up")
    assert result.status is ToolStatus.UNAVAILABLE
    assert "HTTP 503" in (result.error or "")
    assert len(receiver.received) == 3


def test_slow_server_times_out(receiver: Receiver) -> None:
    receiver.default = dataclasses.replace(vector(({}, "1")), delay=1.0)
    result = PrometheusClient(receiver.url, timeout=0.2, retry=NO_RETRY).query("up")
    assert result.status is ToolStatus.UNAVAILABLE
    assert "did not answer within 0.2s" in (result.error or "")


def test_credentials_in_the_url_never_reach_messages_or_events(refused_url: str) -> None:
    secret_url = refused_url.replace("http://", "http://admin:hunter2@")
    events: list[ToolCallEvent] = []
    result = PrometheusClient(secret_url, retry=NO_RETRY).query("up", sink=events.append)
    assert result.status is ToolStatus.UNAVAILABLE
    assert "hunter2" not in (result.error or "")
    assert "hunter2" not in repr(events)


# -- Prometheus's own errors -----------------------------------------------------------------------


PARSE_ERROR = "1:6: parse error: unclosed left parenthesis"


@pytest.mark.parametrize(
    ("error_type", "message", "status", "query", "reported"),
    [
        # bad data: an error with Prometheus's message
        ("bad_data", PARSE_ERROR, 400, "rate(", lambda error: error == f"bad PromQL: {PARSE_ERROR}"),
        (
            "execution",
            "many-to-many matching not allowed",
            422,
            "a / b",
            lambda error: "execution" in error and "many-to-many" in error,
        ),
        # a query that timed out inside Prometheus
        (
            "timeout",
            "query timed out in expression evaluation",
            503,
            "heavy",
            lambda error: error.startswith("query timed out in Prometheus"),
        ),
    ],
    ids=["bad_data", "execution", "timeout"],
)
def test_prometheus_errors_are_errors_and_are_not_retried(
    receiver: Receiver,
    error_type: str,
    message: str,
    status: int,
    query: str,
    reported: Callable[[str], bool],
) -> None:
    receiver.default = api({"status": "error", "errorType": error_type, "error": message}, status=status)
    result = PrometheusClient(receiver.url, retry=FAST_RETRY).query(query)
    assert result.status is ToolStatus.ERROR
    assert reported(result.error or ""), result.error
    assert len(receiver.received) == 1


def test_non_json_answer_is_an_error(receiver: Receiver) -> None:
    receiver.default = Reply(404, b"404 page not found")
    result = PrometheusClient(receiver.url, retry=FAST_RETRY).query("up")
    assert result.status is ToolStatus.ERROR
    assert "HTTP 404" in (result.error or "") and "404 page not found" in (result.error or "")


def test_malformed_result_is_an_error(receiver: Receiver) -> None:
    receiver.default = api({"status": "success", "data": {"resultType": "vector", "result": [{"value": 3}]}})
    result = PrometheusClient(receiver.url, retry=NO_RETRY).query("up")
    assert result.status is ToolStatus.ERROR
    assert "unexpected response" in (result.error or "")


# -- request shape -------------------------------------------------------------------------------


def test_instant_query_posts_the_form_prometheus_expects(receiver: Receiver) -> None:
    receiver.default = vector(({"__name__": "up", "job": "x"}, "1"))
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = PrometheusClient(receiver.url + "/", timeout=7).query("up", at=at)
    assert result.ok
    request = receiver.received[0]
    assert (request.method, request.path) == ("POST", "/api/v1/query")
    assert form(receiver) == {"query": "up", "time": repr(at.timestamp()), "timeout": "7"}


def test_range_query_posts_start_end_step(receiver: Receiver) -> None:
    receiver.default = api({"status": "success", "data": {"resultType": "matrix", "result": []}})
    end = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    result = PrometheusClient(receiver.url).query_range(
        "up", start=end - timedelta(minutes=10), end=end, step=timedelta(seconds=15)
    )
    assert result.ok and result.data is not None and result.data.empty
    assert receiver.received[0].path == "/api/v1/query_range"
    sent = form(receiver)
    assert float(sent["end"]) - float(sent["start"]) == 600
    assert float(sent["step"]) == 15


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"step": 0}, "step must be a positive duration"),
        ({"step": -5.0}, "step must be a positive duration"),
        ({"step": 1.0, "swap": True}, "end is before start"),
        ({"step": 0.01}, "exceeds 11000"),
        ({"step": "1m"}, "step must be seconds or a timedelta"),
    ],
)
def test_bad_range_arguments_are_errors_and_nothing_is_sent(receiver: Receiver, kwargs, expected) -> None:
    end = datetime.now(UTC)
    start = end - timedelta(hours=1)
    if kwargs.pop("swap", False):
        start, end = end, start
    result = PrometheusClient(receiver.url).query_range("up", start=start, end=end, **kwargs)
    assert result.status is ToolStatus.ERROR
    assert expected in (result.error or "")
    assert receiver.received == []


def test_naive_datetime_is_rejected(receiver: Receiver) -> None:
    result = PrometheusClient(receiver.url).query("up", at=datetime(2026, 1, 1))
    assert result.status is ToolStatus.ERROR
    assert "timezone-aware" in (result.error or "")
    assert receiver.received == []


def test_constructor_rejects_non_http_urls() -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        PrometheusClient("prometheus:9090")
    with pytest.raises(ValueError, match="timeout"):
        PrometheusClient("http://localhost:9090", timeout=0)


# -- templates -------------------------------------------------------------------------------------


def test_template_query_sends_the_rendered_promql(receiver: Receiver) -> None:
    receiver.default = vector(({"pod": "checkout-7d9f8c6b5-x2x4z", "container": "app"}, "0.97"))
    events: list[ToolCallEvent] = []
    result = PrometheusClient(receiver.url).query_template(
        "memory_limit_ratio", "shop", "checkout", sink=events.append
    )
    assert result.ok and result.data is not None
    assert result.data.series[0].values() == [0.97]
    expected = template("memory_limit_ratio").render(Workload("shop", "checkout"))
    assert form(receiver)["query"] == expected
    assert events[0].arguments["template"] == "memory_limit_ratio"


@pytest.mark.parametrize(
    ("name", "namespace", "workload", "window", "expected"),
    [
        ("no_such_template", "shop", "checkout", "5m", "unknown PromQL template 'no_such_template'; known:"),
        ("cpu_usage", "Shop", "checkout", "5m", "namespace 'Shop' is not a valid"),
        ("cpu_usage", "shop", 'x"}) or vector(1', "5m", "is not a valid Kubernetes object name"),
        ("cpu_usage", "shop", "checkout", "5 minutes", "not a PromQL duration"),
    ],
)
def test_bad_template_arguments_are_traced_errors(
    receiver: Receiver, name: str, namespace: str, workload: str, window: str, expected: str
) -> None:
    events: list[ToolCallEvent] = []
    client = PrometheusClient(receiver.url)
    result = client.query_template(name, namespace, workload, window=window, sink=events.append)
    assert result.status is ToolStatus.ERROR
    assert expected in (result.error or "")
    assert [e.status for e in events] == [ToolStatus.ERROR]
    assert receiver.received == []


def test_templates_without_prometheus_are_unavailable_not_crashes() -> None:
    client = PrometheusClient(None)
    for name in TEMPLATES:
        assert client.query_template(name, "shop", "checkout").status is ToolStatus.UNAVAILABLE


@pytest.mark.parametrize(
    ("pod", "matches"),
    [
        ("checkout-7d9f8c6b5-x2x4z", True),  # Deployment
        ("checkout-0", True),  # StatefulSet
        ("checkout-x2x4z", True),  # DaemonSet / Job
        ("checkout-worker-5c7d9f4b8-abcde", False),  # another Deployment sharing the prefix
        ("checkout", False),
        ("checkoutv2-7d9f8c6b5-x2x4z", False),
    ],
)
def test_pod_regex_matches_the_workloads_pods_only(pod: str, matches: bool) -> None:
    # PromQL anchors its regexes, like fullmatch; RE2 and Python agree on this syntax.
    assert bool(re.fullmatch(Workload("shop", "checkout").pod_regex, pod)) is matches


def test_dots_in_workload_names_are_literal() -> None:
    regex = Workload("shop", "api.v2").pod_regex
    assert re.fullmatch(regex, "api.v2-7d9f8c6b5-x2x4z")
    assert not re.fullmatch(regex, "apixv2-7d9f8c6b5-x2x4z")
    assert 'pod=~"api\\\\.v2-' in Workload("shop", "api.v2").pod_selector()


def test_every_template_is_scoped_to_the_namespace_and_workload() -> None:
    for t in TEMPLATES.values():
        promql = t.render(Workload("shop", "checkout"), "2m")
        assert 'namespace="shop"' in promql, t.name
        assert "checkout" in promql, t.name
        assert t.unit and t.description


# -- result parsing ------------------------------------------------------------------------------


def test_parse_matrix_keeps_labels_and_float_samples_including_nan_and_inf() -> None:
    data = {
        "resultType": "matrix",
        "result": [
            {"metric": {"__name__": "m", "pod": "a"}, "values": [[1, "1.5"], [2, "NaN"], [3, "+Inf"]]},
        ],
    }
    result = parse_query_data("m", data, ["partial data"])
    (series,) = result.series
    assert series.name == "m" and series.labels["pod"] == "a"
    assert [s.timestamp for s in series.samples] == [1.0, 2.0, 3.0]
    assert series.values()[0] == 1.5 and math.isnan(series.values()[1]) and series.values()[2] == math.inf
    assert series.max() == math.inf
    assert result.warnings == ("partial data",)
    assert result.where(pod="a") == (series,) and result.where(pod="b") == ()


def test_parse_scalar_is_one_unlabelled_series() -> None:
    result = parse_query_data("1+1", {"resultType": "scalar", "result": [5, "2"]})
    (series,) = result.series
    assert dict(series.labels) == {} and series.values() == [2.0]


@pytest.mark.parametrize(
    "data",
    [
        {"resultType": "string", "result": [5, "hello"]},
        {"resultType": "weird", "result": []},
        {"resultType": "vector", "result": [{"metric": {}, "value": [1, "not a number"]}]},
        {"resultType": "matrix", "result": [{"metric": {}, "value": [1, "1"]}]},
        {"resultType": "vector", "result": [{"metric": {}, "histogram": [1, {}]}]},
        "nope",
    ],
)
def test_parse_rejects_what_is_not_numeric_series(data) -> None:
    with pytest.raises(MalformedResponse):
        parse_query_data("q", data)
