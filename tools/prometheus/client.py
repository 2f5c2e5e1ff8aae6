"""Prometheus HTTP API client: instant and range queries, answered as `ToolResult[QueryResult]`.

Not configured or unreachable -> UNAVAILABLE (the graph carries on without metrics); bad
PromQL -> ERROR carrying Prometheus's own message; connection failures, 429/502/503/504 and
timeouts are retried with back-off by `call_tool`.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from tools.http_client import PooledClient
from tools.prometheus.alerts import ALERTS_TOOL, Alert, parse_alerts
from tools.prometheus.series import MalformedResponse, QueryResult, parse_query_data
from tools.prometheus.templates import DEFAULT_WINDOW, Workload, template
from tools.result import RetryPolicy, ToolFailure, ToolResult, ToolStatus, TraceSink, call_tool, discard

QUERY_TOOL = "prometheus.query"
RANGE_TOOL = "prometheus.query_range"
# Prometheus refuses range queries with more points than this per series.
MAX_POINTS = 11_000

Instant = datetime | float
DEFAULT_RETRY = RetryPolicy()


def _display_url(url: str) -> str:
    """The URL without user:password, for messages and trace events."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    with contextlib.suppress(ValueError):  # a malformed port must not break the message about it
        netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _unix(at: Instant) -> float:
    if isinstance(at, datetime):
        if at.tzinfo is None:
            raise ToolFailure("timestamps must be timezone-aware datetimes (naive time is ambiguous)")
        return at.timestamp()
    return float(at)


def _seconds(step: timedelta | float) -> float:
    if isinstance(step, timedelta):
        return step.total_seconds()
    try:
        return float(step)
    except (TypeError, ValueError):
        raise ToolFailure(f"step must be seconds or a timedelta, got {step!r}") from None


def _summary(result: QueryResult) -> str:
    points = sum(len(s.samples) for s in result.series)
    return f"{len(result.series)} series, {points} samples ({result.result_type})"


class PrometheusClient:
    """Queries one Prometheus server. `url=None` means not configured: every call is UNAVAILABLE."""

    def __init__(
        self,
        url: str | None,
        *,
        timeout: float = 10.0,
        retry: RetryPolicy = DEFAULT_RETRY,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError(f"Prometheus URL must be http:// or https://, got {_display_url(url)!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._url = url.rstrip("/") if url else None
        self._timeout = timeout
        self._retry = retry
        # One client for every query (a client per call built a TLS context each time: ~40 ms CPU).
        self._http = PooledClient(timeout=timeout, transport=transport)

    def close(self) -> None:
        """Close the HTTP connections (a later query opens new ones)."""
        self._http.close()

    def __enter__(self) -> PrometheusClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def configured(self) -> bool:
        """True when a Prometheus URL was given."""
        return self._url is not None

    def query(
        self, promql: str, *, at: Instant | None = None, sink: TraceSink = discard
    ) -> ToolResult[QueryResult]:
        """Evaluate `promql` at one instant (now when `at` is None)."""
        return self._instant(promql, at, {}, sink)

    def query_range(
        self,
        promql: str,
        *,
        start: Instant,
        end: Instant,
        step: timedelta | float,
        sink: TraceSink = discard,
    ) -> ToolResult[QueryResult]:
        """Evaluate `promql` from `start` to `end` every `step` (seconds or a timedelta)."""
        return self._range(promql, start, end, step, {}, sink)

    def alerts(self, *, sink: TraceSink = discard) -> ToolResult[list[Alert]]:
        """The alerts Prometheus holds active now (firing and pending), as `GET /api/v1/alerts` lists them."""

        def run() -> list[Alert]:
            body = self._send("GET", "/api/v1/alerts", {})
            try:
                return parse_alerts(body.get("data"))
            except ValueError as exc:
                raise ToolFailure(f"unexpected alerts answer from Prometheus: {exc}") from exc

        return call_tool(
            ALERTS_TOOL,
            {},
            run,
            sink=sink,
            summarize=lambda found: f"{sum(a.state == 'firing' for a in found)} firing, {len(found)} active",
            retry=self._retry,
        )

    def query_template(
        self,
        name: str,
        namespace: str,
        workload: str,
        *,
        window: str = DEFAULT_WINDOW,
        at: Instant | None = None,
        sink: TraceSink = discard,
    ) -> ToolResult[QueryResult]:
        """Run the named template (see `TEMPLATES`) for a workload at one instant."""
        about = {"template": name, "namespace": namespace, "workload": workload, "window": window}
        try:
            promql = template(name).render(Workload(namespace, workload), window)
        except ValueError as exc:
            return self._call(QUERY_TOOL, about, _failing(str(exc)), sink)
        return self._instant(promql, at, about, sink)

    # -- internals -------------------------------------------------------------------------

    def _instant(
        self, promql: str, at: Instant | None, about: Mapping[str, Any], sink: TraceSink
    ) -> ToolResult[QueryResult]:
        def run() -> QueryResult:
            params = {"query": promql}
            if at is not None:
                params["time"] = repr(_unix(at))
            return self._post("/api/v1/query", promql, params)

        args = {**about, "query": promql, "at": _trace_time(at)}
        return self._call(QUERY_TOOL, args, run, sink)

    def _range(
        self,
        promql: str,
        start: Instant,
        end: Instant,
        step: timedelta | float,
        about: Mapping[str, Any],
        sink: TraceSink,
    ) -> ToolResult[QueryResult]:
        def run() -> QueryResult:
            t0, t1, dt = _unix(start), _unix(end), _seconds(step)
            if not (dt > 0 and math.isfinite(dt)):
                raise ToolFailure(f"step must be a positive duration, got {dt}s")
            if t1 < t0:
                raise ToolFailure("end is before start")
            if (t1 - t0) / dt > MAX_POINTS:
                points = (t1 - t0) / dt
                raise ToolFailure(f"{points:.0f} points per series exceeds {MAX_POINTS}; use a larger step")
            params = {"query": promql, "start": repr(t0), "end": repr(t1), "step": repr(dt)}
            return self._post("/api/v1/query_range", promql, params)

        args = {
            **about,
            "query": promql,
            "start": _trace_time(start),
            "end": _trace_time(end),
            "step": step.total_seconds() if isinstance(step, timedelta) else step,
        }
        return self._call(RANGE_TOOL, args, run, sink)

    def _call(
        self, tool: str, args: Mapping[str, Any], fn: Callable[[], QueryResult], sink: TraceSink
    ) -> ToolResult[QueryResult]:
        return call_tool(tool, args, fn, sink=sink, summarize=_summary, retry=self._retry)

    def _post(self, path: str, promql: str, params: dict[str, str]) -> QueryResult:
        # Prometheus also stops evaluating at its own timeout, so a heavy query is not left running.
        params = {**params, "timeout": f"{self._timeout:g}"}  # seconds; Prometheus takes floats
        body = self._send("POST", path, params)
        try:
            return parse_query_data(promql, body.get("data"), body.get("warnings", []))
        except MalformedResponse as exc:
            raise ToolFailure(f"unexpected response from Prometheus at {self._where()}: {exc}") from exc

    def _where(self) -> str:
        return _display_url(self._url) if self._url else "(not configured)"

    def _send(self, method: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        """The JSON body of a successful API answer; `ToolFailure` (transient when worth a retry) else."""
        if self._url is None:
            raise ToolFailure(
                "Prometheus is not configured (set prometheus_url / PARAMEDIC_PROMETHEUS_URL); "
                "no metrics available",
                status=ToolStatus.UNAVAILABLE,
            )
        where = _display_url(self._url)
        try:
            http = self._http.client()
            if method == "GET":
                response = http.get(self._url + path, params=params)
            else:
                response = http.post(self._url + path, data=params)
        except httpx.TransportError as exc:  # a timeout included: both worth a retry
            problem = (
                f"Prometheus at {where} did not answer within {self._timeout:g}s ({type(exc).__name__})"
                if isinstance(exc, httpx.TimeoutException)
                else f"cannot reach Prometheus at {where}: {exc or type(exc).__name__}"
            )
            raise ToolFailure(problem, status=ToolStatus.UNAVAILABLE, transient=True) from exc
        return _interpret(response, where)


def _interpret(response: httpx.Response, where: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        if response.status_code in (429, 502, 503, 504):
            raise ToolFailure(
                f"Prometheus at {where} is unavailable (HTTP {response.status_code})",
                status=ToolStatus.UNAVAILABLE,
                transient=True,
            )
        snippet = response.text[:200].strip()
        raise ToolFailure(
            f"Prometheus at {where} answered HTTP {response.status_code} without JSON: {snippet!r}"
        )
    if body.get("status") != "success":
        error_type = body.get("errorType", "unknown")
        message = body.get("error", "no error message")
        if error_type == "bad_data":
            raise ToolFailure(f"bad PromQL: {message}")
        if error_type == "timeout":
            raise ToolFailure(f"query timed out in Prometheus: {message}")
        transient = response.status_code in (429, 502, 503, 504) and error_type == "unavailable"
        status = ToolStatus.UNAVAILABLE if transient else ToolStatus.ERROR
        raise ToolFailure(
            f"Prometheus error ({error_type}, HTTP {response.status_code}): {message}",
            status=status,
            transient=transient,
        )
    return body


def _trace_time(at: Instant | None) -> str | float | None:
    return at.isoformat() if isinstance(at, datetime) else at


def _failing(message: str) -> Callable[[], QueryResult]:
    def run() -> QueryResult:
        raise ToolFailure(message)

    return run
