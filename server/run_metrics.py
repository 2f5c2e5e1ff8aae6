"""What runs add to the Prometheus metrics (`server.prometheus_exporter`): outcomes, actions, durations, cost.

`RunMetrics` listens to the run service: every trace event (`on_event`) and every drive that ends
(`on_finished`). It keeps one small entry per run in flight (when it started), never the trace.

- time to detect: from when the failure started (the incident's `started_at`) to its run being opened;
- time to diagnose: from the run being opened to the analyst's first diagnosis;
- time to recover: from the run being opened to its end, for healed runs;
- model calls and tokens: from the analyst's "reasoner usage" notes;
- breaker state: the target's breaker after each finished run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from agent.domain import Incident, WorkloadRef
from agent.trace import TraceEvent, TraceEventType
from graph.nodes.analyst import USAGE_NOTE
from server.prometheus_exporter import Metrics
from server.runstore import RunStore
from server.runstore.errors import RunStoreError
from server.runstore.models import RunRecord, RunStatus

BreakerStatusOf = Callable[[WorkloadRef], str]


def record_run(metrics: Metrics, record: RunRecord) -> None:
    """Count a run that stopped being driven: its outcome, each action's result, time to recover.

    A run waiting for an approval is not finished; it is counted when the answer drives it on.
    """
    if record.status.active:
        return
    metrics.run_finished(record.status.value)
    for action in record.actions:
        if isinstance(action, dict) and action.get("phase") in ("remediation", "rollback"):
            result = action.get("result")
            result = result if isinstance(result, dict) else {}
            metrics.remediation(
                str(action.get("action") or "unknown"), str(result.get("status") or "unknown")
            )
    if record.status is RunStatus.HEALED and record.finished_at is not None:
        metrics.observe_time_to_recover((record.finished_at - record.created_at).total_seconds())


class RunMetrics:
    """The run service's listener that feeds `Metrics` (see the module docstring)."""

    def __init__(
        self, metrics: Metrics, store: RunStore, provider: str, breaker_status: BreakerStatusOf | None = None
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._provider = provider
        self._breaker_status = breaker_status
        self._lock = threading.Lock()
        self._diagnosed: set[str] = set()

    def on_event(self, event: TraceEvent) -> None:
        """Model usage and the first diagnosis of a run."""
        if event.type is TraceEventType.NOTE and event.summary == USAGE_NOTE:
            usage = event.payload.get("usage") or {}
            self._metrics.llm_call(
                self._provider,
                int(usage.get("input_tokens") or 0),
                int(usage.get("output_tokens") or 0),
                calls=int(usage.get("model_calls") or 0),
            )
        elif event.type is TraceEventType.NODE_END and event.node == "analyst":
            with self._lock:
                if event.run_id in self._diagnosed:
                    return
                self._diagnosed.add(event.run_id)
            started = self._started(event.run_id)
            if started is not None:
                self._metrics.observe_time_to_diagnose((event.ts - started).total_seconds())

    def on_opened(self, incident: Incident, run: RunRecord) -> None:
        """Time to detect: the failure's start to the run being opened."""
        self._metrics.observe_time_to_detect(max((run.created_at - incident.started_at).total_seconds(), 0.0))

    def on_finished(self, record: RunRecord) -> None:
        """Outcome, actions, time to recover, and the target's breaker."""
        record_run(self._metrics, record)
        if record.status.active:
            return
        with self._lock:
            self._diagnosed.discard(record.id)
        if self._breaker_status is not None:
            self._metrics.breaker_state(str(record.target), self._breaker_status(record.target))

    def _started(self, run_id: str) -> datetime | None:
        try:
            return self._store.get_run(run_id).created_at
        except RunStoreError:
            return None
