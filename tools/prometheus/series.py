"""Typed query results: series of float samples with their labels, parsed from Prometheus's JSON."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

ResultType = Literal["vector", "matrix", "scalar", "string"]


class MalformedResponse(ValueError):
    """Prometheus answered with JSON that does not follow its query API's result format."""


@dataclass(frozen=True)
class Sample:
    """One point: a Unix timestamp in seconds and a float value (NaN and ±Inf included)."""

    timestamp: float
    value: float


@dataclass(frozen=True)
class Series:
    """One time series: its labels (including `__name__` when Prometheus kept it) and samples."""

    labels: Mapping[str, str]
    samples: tuple[Sample, ...]

    @property
    def name(self) -> str | None:
        """The metric name, when the query kept it (aggregations drop it)."""
        return self.labels.get("__name__")

    def latest(self) -> Sample | None:
        """The last sample, or None for an empty series."""
        return self.samples[-1] if self.samples else None

    def values(self) -> list[float]:
        """The sample values in time order."""
        return [s.value for s in self.samples]

    def max(self) -> float | None:
        """The largest non-NaN value, or None when there is none."""
        finite = [v for v in self.values() if not math.isnan(v)]
        return max(finite) if finite else None


@dataclass(frozen=True)
class QueryResult:
    """What a query returned: its result type, the series, and Prometheus's warnings."""

    query: str
    result_type: ResultType
    series: tuple[Series, ...]
    warnings: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no series matched (the usual answer for a workload without metrics)."""
        return not self.series

    def where(self, **labels: str) -> tuple[Series, ...]:
        """The series whose labels include every given `name=value` pair."""
        return tuple(s for s in self.series if all(s.labels.get(k) == v for k, v in labels.items()))


def _sample(point: Any) -> Sample:
    if not (isinstance(point, list) and len(point) == 2):
        raise MalformedResponse(f"a sample must be [timestamp, value], got {point!r}")
    try:
        # Prometheus sends values as strings so that NaN and ±Inf survive JSON.
        return Sample(float(point[0]), float(point[1]))
    except (TypeError, ValueError) as exc:
        raise MalformedResponse(f"sample {point!r} is not numeric") from exc


def _labels(item: Mapping[str, Any]) -> Mapping[str, str]:
    metric = item.get("metric", {})
    if not isinstance(metric, dict):
        raise MalformedResponse(f"'metric' must be an object, got {metric!r}")
    return MappingProxyType({str(k): str(v) for k, v in metric.items()})


def _series_item(item: Any, result_type: ResultType) -> Series:
    if not isinstance(item, dict):
        raise MalformedResponse(f"a {result_type} element must be an object, got {item!r}")
    if "histogram" in item or "histograms" in item:
        raise MalformedResponse("native histogram samples are not supported; query classic buckets")
    if result_type == "vector":
        return Series(_labels(item), (_sample(item.get("value")),))
    points = item.get("values")
    if not isinstance(points, list):
        raise MalformedResponse(f"a matrix element needs a 'values' list, got {points!r}")
    return Series(_labels(item), tuple(_sample(p) for p in points))


def parse_query_data(query: str, data: Any, warnings: Any = ()) -> QueryResult:
    """Turn the `data` object of a successful query response into a `QueryResult`.

    A scalar becomes one series without labels; a string result is rejected because no
    template asks for one and its value is not a float.
    """
    if not isinstance(data, dict):
        raise MalformedResponse(f"'data' must be an object, got {type(data).__name__}")
    result_type = data.get("resultType")
    result = data.get("result")
    if result_type in ("vector", "matrix"):
        if not isinstance(result, list):
            raise MalformedResponse(f"a {result_type} result must be a list")
        series = tuple(_series_item(item, result_type) for item in result)
    elif result_type == "scalar":
        series = (Series(MappingProxyType({}), (_sample(result),)),)
    elif result_type == "string":
        raise MalformedResponse("the query returned a string, not numeric samples")
    else:
        raise MalformedResponse(f"unknown resultType {result_type!r}")
    warns = tuple(str(w) for w in warnings) if isinstance(warnings, list) else ()
    return QueryResult(query=query, result_type=result_type, series=series, warnings=warns)
