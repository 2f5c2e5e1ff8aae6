"""Prometheus metrics of one Paramedic server, in a registry of its own (no global mutable state).

Each app gets its own `Metrics` (in `context.extras["metrics"]`, made by `metrics_of` when
absent), so tests and several apps in one process never share counters. Exposed at `/metrics`:

- `paramedic_runs_finished_total{outcome}`: runs that reached a final status (`run_finished`)
- `paramedic_remediations_total{action,result}`: remediations attempted (`remediation`)
- `paramedic_time_to_detect_seconds`, `paramedic_time_to_diagnose_seconds`,
  `paramedic_time_to_recover_seconds`: histograms (`observe_time_to_detect/diagnose/recover`)
- `paramedic_llm_calls_total{provider}`, `paramedic_llm_tokens_total{provider,direction}`
  (direction `in` or `out`): model calls and tokens (`llm_call`)
- `paramedic_breaker_state{key,paramedic_breaker_state}`: enum, 1 on the breaker's state (`breaker_state`)
- `paramedic_queue_depth`: incidents waiting for a run, read at scrape (`set_queue_depth_source`)
- `paramedic_sse_subscribers{stream}`: open SSE streams, `run` or `all` (the SSE routes)

The breaker enum has one sample per state (closed, open, half_open) and key; the current one is 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Enum, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from graph.breaker import BreakerStatus

METRICS_MEDIA_TYPE = CONTENT_TYPE_LATEST
# Detection takes seconds, recovery (a rollout) minutes: buckets from 0.1 s to an hour.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
EXTRAS_KEY = "metrics"


class Metrics:
    """The server's counters, histograms and gauges; the run service calls the methods below."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        r = self.registry

        def counter(name: str, description: str, *labels: str) -> Counter:
            return Counter(f"paramedic_{name}", description, labels, registry=r)

        def duration(name: str, description: str) -> Histogram:
            return Histogram(f"paramedic_{name}_seconds", description, buckets=DURATION_BUCKETS, registry=r)

        self._runs = counter("runs_finished", "Runs that reached a final status.", "outcome")
        self._remediations = counter(
            "remediations", "Remediations attempted, by action and result.", "action", "result"
        )
        self._ttd = duration("time_to_detect", "From the first failure to the incident.")
        self._ttdiag = duration("time_to_diagnose", "From the incident to the diagnosis.")
        self._ttr = duration("time_to_recover", "From the incident to verified recovery.")
        self._llm_calls = counter("llm_calls", "Model calls, by provider.", "provider")
        self._llm_tokens = counter(
            "llm_tokens", "Model tokens, by provider and direction.", "provider", "direction"
        )
        self._breakers = Enum(
            "paramedic_breaker_state", "Circuit breaker state, by breaker key.", ["key"],
            states=[s.value for s in BreakerStatus], registry=r,
        )  # fmt: skip
        self._queue_depth = Gauge("paramedic_queue_depth", "Incidents waiting for a run.", registry=r)
        self._subscribers = Gauge("paramedic_sse_subscribers", "Open SSE streams.", ["stream"], registry=r)

    def run_finished(self, outcome: str) -> None:
        """Count a run that reached a final status (a `RunStatus` value such as 'healed')."""
        self._runs.labels(outcome=str(outcome)).inc()

    def remediation(self, action: str, result: str) -> None:
        """Count a remediation attempt (an `ActionType` value) and its result (a `ToolStatus` value)."""
        self._remediations.labels(action=str(action), result=str(result)).inc()

    def observe_time_to_detect(self, seconds: float) -> None:
        """Record how long the failure went unnoticed."""
        self._ttd.observe(_duration(seconds))

    def observe_time_to_diagnose(self, seconds: float) -> None:
        """Record how long the diagnosis took after the incident opened."""
        self._ttdiag.observe(_duration(seconds))

    def observe_time_to_recover(self, seconds: float) -> None:
        """Record how long the workload took to recover after the incident opened."""
        self._ttr.observe(_duration(seconds))

    def llm_call(self, provider: str, tokens_in: int, tokens_out: int, *, calls: int = 1) -> None:
        """Count `calls` model calls (one by default) and the tokens they used together."""
        self._llm_calls.labels(provider=provider).inc(max(int(calls), 0))
        self._llm_tokens.labels(provider=provider, direction="in").inc(max(int(tokens_in), 0))
        self._llm_tokens.labels(provider=provider, direction="out").inc(max(int(tokens_out), 0))

    def breaker_state(self, key: str, status: BreakerStatus | str) -> None:
        """Set a breaker's current state; ValueError for a state that is not a `BreakerStatus`."""
        self._breakers.labels(key=key).state(BreakerStatus(status).value)

    def set_queue_depth_source(self, depth: Callable[[], float]) -> None:
        """Read the queue depth from `depth` at every scrape (the queue owns the number)."""
        self._queue_depth.set_function(depth)

    @contextmanager
    def subscriber(self, stream: str) -> Iterator[None]:
        """Count an open SSE stream for as long as the `with` block runs."""
        gauge = self._subscribers.labels(stream=stream)
        gauge.inc()
        try:
            yield
        finally:
            gauge.dec()

    def subscribers(self, stream: str) -> float:
        """How many SSE streams of `stream` ('run' or 'all') are open now."""
        return self.registry.get_sample_value("paramedic_sse_subscribers", {"stream": stream}) or 0.0

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)


def _duration(seconds: float) -> float:
    value = float(seconds)
    if not value >= 0:  # also catches NaN: a negative or NaN duration is a caller's clock bug
        raise ValueError(f"a duration must be a non-negative number of seconds, got {seconds!r}")
    return value


def metrics_of(extras: dict[str, Any]) -> Metrics:
    """The `Metrics` in a context's extras, created there on first use."""
    found = extras.get(EXTRAS_KEY)
    if isinstance(found, Metrics):
        return found
    return extras.setdefault(EXTRAS_KEY, Metrics())
