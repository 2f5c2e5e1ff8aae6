"""The Prometheus investigation tools against a scripted Prometheus API (httpx.MockTransport): caps,
series outside the scope withheld, range thinning, firing alerts; and the scope itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from tools.investigation import InvestigationTools, NamespaceScope, OutOfScope
from tools.prometheus import PrometheusClient
from tools.result import NO_RETRY, ToolFailure, ToolStatus

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _vector(n: int, namespace: str = "shop") -> list[dict[str, Any]]:
    return [
        {"metric": {"pod": f"p{i}", "namespace": namespace}, "value": [NOW.timestamp(), str(i)]}
        for i in range(n)
    ]


def prometheus(answers: dict[str, Any], seen: list[httpx.Request]) -> PrometheusClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "success", "data": answers[request.url.path]})

    return PrometheusClient("http://prom:9090", transport=httpx.MockTransport(handler), retry=NO_RETRY)


def toolset(client: PrometheusClient) -> InvestigationTools:
    return InvestigationTools.create(prometheus=client, scope=NamespaceScope.of(["shop"]), clock=lambda: NOW)


def test_instant_query_is_capped_and_withholds_other_namespaces() -> None:
    seen: list[httpx.Request] = []
    data = {"resultType": "vector", "result": _vector(25) + _vector(3, namespace="payments")}
    tools = toolset(prometheus({"/api/v1/query": data}, seen))
    assert tools.names() == ["prom_query", "prom_query_range", "prom_alerts"]
    outcome = tools.call("prom_query", {"query": "up"})
    assert outcome.ok
    content = outcome.content
    assert content["series_total"] == 25 and content["withheld_out_of_scope"] == 3 and content["truncated"]
    assert len(content["series"]) == 20 and all(s["labels"]["namespace"] == "shop" for s in content["series"])
    sent = parse_qs(seen[0].content.decode())
    assert sent["query"] == ["up"] and float(sent["time"][0]) == NOW.timestamp()


def test_range_query_thins_points_keeping_the_newest() -> None:
    seen: list[httpx.Request] = []
    values = [[NOW.timestamp() - 15 * (119 - i), str(i)] for i in range(120)]
    data = {"resultType": "matrix", "result": [{"metric": {"namespace": "shop"}, "values": values}]}
    outcome = toolset(prometheus({"/api/v1/query_range": data}, seen)).call(
        "prom_query_range", {"query": "rate(x[5m])", "minutes": 30}
    )
    assert outcome.ok, outcome.content
    (series,) = outcome.content["series"]
    assert len(series["points"]) <= 60 and series["points"][-1] == [0, 119.0]
    sent = parse_qs(seen[0].content.decode())
    assert float(sent["end"][0]) - float(sent["start"][0]) == 1800


def test_alerts_firing_in_scope_only() -> None:
    alerts = [
        {"labels": {"alertname": "KubePodCrashLooping", "namespace": "shop"}, "state": "firing",
         "annotations": {"summary": "web-api crash loops"}, "activeAt": "2024-05-01T11:50:00Z"},
        {"labels": {"alertname": "Other", "namespace": "payments"}, "state": "firing", "annotations": {}},
        {"labels": {"alertname": "Soon", "namespace": "shop"}, "state": "pending", "annotations": {}},
        {"labels": {"alertname": "Watchdog"}, "state": "firing", "annotations": {}},
    ]  # fmt: skip
    seen: list[httpx.Request] = []
    tools = toolset(prometheus({"/api/v1/alerts": {"alerts": alerts}}, seen))
    firing = tools.call("prom_alerts", {}).content
    assert [a["name"] for a in firing["alerts"]] == ["KubePodCrashLooping", "Watchdog"]
    assert firing["withheld_out_of_scope"] == 1 and seen[0].method == "GET"
    with_pending = tools.call("prom_alerts", {"include_pending": True}).content
    assert "Soon" in json.dumps(with_pending)


def test_unconfigured_prometheus_tools_are_not_offered_and_say_so() -> None:
    tools = InvestigationTools.create(prometheus=PrometheusClient(None))
    assert tools.names() == []
    outcome = tools.call("prom_query", {"query": "up"})
    assert outcome.status is ToolStatus.UNAVAILABLE and "not available" in outcome.content["error"]


def test_scope_lists_exclusions_and_selectors() -> None:
    everything = NamespaceScope.of(excluded=["kube-system"])
    assert everything.check("shop") == "shop"
    with pytest.raises(OutOfScope):
        everything.check("kube-system")
    with pytest.raises(ToolFailure, match="not a valid namespace"):
        everything.check("../etc")
    asked: list[str] = []

    def labelled(namespace: str) -> bool:
        asked.append(namespace)
        return namespace == "team-a"

    selected = NamespaceScope.of(selector="team=a", selector_check=labelled)
    assert selected.allows("team-a") and not selected.allows("team-b")
    assert selected.allows("team-a") and asked == ["team-a", "team-b"], "answers are cached"
    assert not NamespaceScope.of(selector="team=a").allows("team-a"), (
        "a selector nobody evaluates admits none"
    )
