"""Metric evidence from Prometheus: memory against its limit, restarts, the 5xx ratio, as METRIC items.

Without Prometheus (not configured, unreachable, or no series) the evidence says so in `gaps`
and the analyst carries on with what the cluster showed.
"""

from __future__ import annotations

import math

from agent.domain import EvidenceItem, EvidenceKind, WorkloadRef
from tools.evidence.item_data import MetricData
from tools.prometheus import PrometheusClient, QueryResult, Series
from tools.result import TraceSink, discard

MEMORY = "container_memory_working_set_bytes"
RESTARTS = "kube_pod_container_status_restarts_total"
ERROR_RATIO = "http_5xx_ratio"


def _latest(series: Series) -> float | None:
    """The series' last value, when there is one and it is a finite number."""
    sample = series.latest()
    return sample.value if sample is not None and math.isfinite(sample.value) else None


def _metric_item(data: MetricData, subject: str, text: str, source_detail: str = "") -> EvidenceItem:
    """A METRIC item on `subject` (a container or the workload), identified by metric and subject."""
    return EvidenceItem(
        id=f"metric:{data.name}:{subject}",
        kind=EvidenceKind.METRIC,
        source=f"prometheus {data.name}{source_detail}",
        text=text,
        data=data.dump(),
    )


def _memory_items(working: QueryResult, limits: QueryResult | None) -> list[EvidenceItem]:
    limit_of = {}
    for series in limits.series if limits else ():
        limit = _latest(series)
        if limit is not None:
            limit_of[(series.labels.get("pod"), series.labels.get("container"))] = limit
    worst: dict[str, tuple[float, MetricData]] = {}  # per container, the pod closest to its limit
    for series in working.series:
        value = _latest(series)
        if value is None:
            continue
        pod, container = series.labels.get("pod", ""), series.labels.get("container", "")
        limit = limit_of.get((pod, container))
        data = MetricData(
            name=MEMORY, container=container, pod=pod, value=value, unit="bytes", limit=limit or None
        )
        ratio = value / limit if limit else 0.0
        best = worst.get(container)
        if best is None or ratio > best[0]:
            worst[container] = (ratio, data)
    items = []
    for container, (_, data) in sorted(worst.items()):
        limit_text = f" of a {data.limit / 2**20:.0f}Mi limit" if data.limit else " (no limit)"
        text = f"container {container} working set {value_mi(data)}Mi{limit_text}"
        items.append(_metric_item(data, container, text, f" pod {data.pod}"))
    return items


def value_mi(data: MetricData) -> str:
    """The measured value in whole mebibytes, for the item's text."""
    return f"{(data.value or 0.0) / 2**20:.0f}"


def _restart_items(result: QueryResult) -> list[EvidenceItem]:
    totals: dict[str, float] = {}
    for series in result.series:
        value = _latest(series)
        if value is not None:
            container = series.labels.get("container", "")
            totals[container] = totals.get(container, 0.0) + value
    return [
        _metric_item(
            MetricData(name=RESTARTS, container=container, value=total, unit="count"),
            container,
            f"container {container} restarted {total:.0f} times across the workload's pods",
        )
        for container, total in sorted(totals.items())
    ]


def _error_items(result: QueryResult, target: WorkloadRef) -> list[EvidenceItem]:
    for series in result.series:
        value = _latest(series)
        if value is not None:
            data = MetricData(name=ERROR_RATIO, value=value, unit="ratio")
            text = f"{value:.1%} of HTTP requests to {target.name} answered 5xx over 5m"
            return [_metric_item(data, target.name, text)]
    return []


def metric_evidence(
    prometheus: PrometheusClient | None, target: WorkloadRef, *, sink: TraceSink = discard
) -> tuple[list[EvidenceItem], list[str]]:
    """METRIC items about `target` and the gaps (what could not be measured, and why)."""
    if prometheus is None or not prometheus.configured:
        return [], ["metrics: no Prometheus configured"]
    ns, name = target.namespace, target.name
    items: list[EvidenceItem] = []
    gaps: list[str] = []
    working = prometheus.query_template("memory_working_set", ns, name, sink=sink)
    if not working.ok or working.data is None:
        # The first query tells whether Prometheus answers at all; do not pile up the same failure.
        return [], [f"metrics: Prometheus did not answer ({working.status.value}: {working.error})"]
    limits = prometheus.query_template("memory_limit", ns, name, sink=sink)
    if not limits.ok:
        gaps.append(f"metrics: memory limits: {limits.error}")
    items += _memory_items(working.data, limits.data if limits.ok else None)
    restarts = prometheus.query_template("restarts", ns, name, sink=sink)
    if restarts.ok and restarts.data is not None:
        items += _restart_items(restarts.data)
    else:
        gaps.append(f"metrics: restarts: {restarts.error}")
    errors = prometheus.query_template("http_5xx_ratio", ns, name, sink=sink)
    if errors.ok and errors.data is not None:
        items += _error_items(errors.data, target)
    else:
        gaps.append(f"metrics: 5xx ratio: {errors.error}")
    if not items:
        gaps.append(f"metrics: Prometheus has no series for {target}")
    return items, gaps


def error_ratio(
    prometheus: PrometheusClient | None, target: WorkloadRef, *, sink: TraceSink = discard
) -> tuple[float | None, str]:
    """The workload's 5xx ratio now, or None with the reason it is not known."""
    if prometheus is None or not prometheus.configured:
        return None, "no Prometheus configured"
    result = prometheus.query_template("http_5xx_ratio", target.namespace, target.name, sink=sink)
    if not result.ok or result.data is None:
        return None, f"Prometheus did not answer: {result.error}"
    items = _error_items(result.data, target)
    if not items:
        return None, "no HTTP traffic measured"
    value = MetricData.read(items[0].data).value
    return (value, "measured") if value is not None else (None, "no HTTP traffic measured")
