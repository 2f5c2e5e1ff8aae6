"""Prometheus reads for an investigator: instant and range PromQL with result caps, firing alerts.

PromQL can name any metric of any namespace, so results are filtered after the query: a series
whose `namespace` label is outside the scope is withheld (and counted), as is an alert.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from tools.investigation.catalogue import Backends, ToolArgs, ToolSpec, unwrap
from tools.prometheus import QueryResult, Series
from tools.result import ToolFailure


class QueryArgs(ToolArgs):
    """PromQL at one instant (now, or `time` in RFC 3339): labels and value, at most 20 series."""

    query: str = Field(min_length=1, max_length=2000)
    time: str | None = Field(default=None, max_length=40)


class RangeArgs(ToolArgs):
    """PromQL over the last `minutes`: labels and up to 60 points, at most 10 series."""

    query: str = Field(min_length=1, max_length=2000)
    minutes: int = Field(default=30, ge=1, le=360)
    step_seconds: int | None = Field(default=None, ge=1, le=3600)


class AlertsArgs(ToolArgs):
    """The alerts firing now (and pending ones with include_pending): labels and annotations."""

    include_pending: bool = False


def _value(v: float) -> float | str:
    return v if math.isfinite(v) else str(v)  # NaN and ±Inf are not JSON


def _in_scope(env: Backends, series: Series) -> bool:
    namespace = series.labels.get("namespace")
    return namespace is None or env.scope.allows(namespace)


def _series(env: Backends, result: QueryResult, max_series: int) -> tuple[list[Series], dict[str, Any]]:
    kept = [s for s in result.series if _in_scope(env, s)]
    facts: dict[str, Any] = {"result_type": result.result_type, "series_total": len(kept)}
    if len(kept) < len(result.series):
        facts["withheld_out_of_scope"] = len(result.series) - len(kept)
    if len(kept) > max_series:
        facts["truncated"] = True
    if result.warnings:
        facts["warnings"] = list(result.warnings)
    return kept[:max_series], facts


def _instant(env: Backends, args: QueryArgs) -> Any:
    at: datetime | None = None
    if args.time is not None:
        try:
            at = datetime.fromisoformat(args.time.replace("Z", "+00:00"))
        except ValueError:
            raise ToolFailure(f"time {args.time!r} is not RFC 3339") from None
        if at.tzinfo is None:
            raise ToolFailure("time needs a timezone (e.g. 2024-05-01T10:00:00Z)")
    result = unwrap(env.metrics().query(args.query, at=at or env.clock()))
    series, facts = _series(env, result, env.limits.max_series)
    rows = []
    for s in series:
        latest = s.latest()
        rows.append({"labels": dict(s.labels), "value": None if latest is None else _value(latest.value)})
    return {**facts, "series": rows}


def _range(env: Backends, args: RangeArgs) -> Any:
    end = env.clock()
    start = end - timedelta(minutes=args.minutes)
    points = env.limits.max_points
    step = args.step_seconds or max(15, math.ceil(args.minutes * 60 / points))
    result = unwrap(env.metrics().query_range(args.query, start=start, end=end, step=step))
    series, facts = _series(env, result, min(10, env.limits.max_series))
    rows = []
    for s in series:
        samples = list(s.samples)
        stride = max(1, math.ceil(len(samples) / points))  # thin out, keeping the newest point
        kept = samples[::-1][::stride][::-1]
        rows.append(
            {
                "labels": dict(s.labels),
                "points": [[round(p.timestamp - end.timestamp()), _value(p.value)] for p in kept],
            }
        )
    return {**facts, "step_seconds": step, "time": "seconds relative to now", "series": rows}


def _alerts(env: Backends, args: AlertsArgs) -> Any:
    alerts = unwrap(env.metrics().alerts())
    states = {"firing", "pending"} if args.include_pending else {"firing"}
    shown = [
        a for a in alerts if a.state in states and (a.namespace is None or env.scope.allows(a.namespace))
    ]
    withheld = sum(1 for a in alerts if a.state in states) - len(shown)
    rows = [
        {"name": a.name, "state": a.state, "active_at": a.active_at, "labels": dict(a.labels),
         "annotations": dict(a.annotations)}
        for a in shown[: env.limits.max_alerts]
    ]  # fmt: skip
    out: dict[str, Any] = {"total": len(shown), "alerts": rows}
    if withheld:
        out["withheld_out_of_scope"] = withheld
    return out


TOOLS = (
    ToolSpec("prom_query", "prometheus", QueryArgs, _instant),
    ToolSpec("prom_query_range", "prometheus", RangeArgs, _range),
    ToolSpec("prom_alerts", "prometheus", AlertsArgs, _alerts),
)
