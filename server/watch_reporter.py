"""What a healing run reports back to the cluster: Events on its workload, status on its ParamedicWatch.

`WatchReporter` listens to the run service (`on_event` for every stored trace event,
`on_finished` when a drive ends) and records:

- Kubernetes Events on the run's target (every run, watched or not):
  `DiagnosisComplete` when the analyst ends with a diagnosis (category, confidence, resource);
  `RemediationProposed` when a remediation action went through and opened a pull request (its
  URL) or applied a change; `HealingCapReached` when the run escalates because its healing cap
  is spent: the verification loop ran out of attempts (the attempt budget, or the target
  breaker refusing another attempt: "... the budget is spent"), or the decision escalated because
  the target's breaker is open ("the breaker for ... is open").
- ParamedicWatch status, only for runs whose incident carries the watch label
  (`agent.watch_labels.WATCH_LABEL` = "namespace/name" of the watch, set by the watcher):
  phase `Healing` when remediation starts, then on the run's end `Healthy` (healed),
  `Escalated` (escalated), `Degraded` (reported, rejected or failed: nothing fixed the workload,
  it is still failing); `lastDiagnosis` ("category (confidence): explanation", first line,
  trimmed); `lastPullRequest` (the run's latest PR URL); `healingScore`; and a `Healing`
  condition (True while remediating, False with the outcome as reason once the run ended,
  Unknown while an approval is pending).

healingScore: among the most recent finished runs (up to `history`, default 50) in the run
store on the watch's target workload (same namespace, kind and name), the share that ended
`healed`; finished means healed, escalated, reported, rejected or failed. Always in [0, 1];
not written while the target has no finished run.

Reporting is best effort: every write answers a `ToolResult` (failures are logged, never
raised), and both listener methods catch everything, so a cluster or store hiccup never breaks
a run. The run's target and watch (from its incident's labels) are cached per run id, so the
store is read once per run, not once per event.
"""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from agent.domain import WorkloadRef
from agent.trace import TraceEvent, TraceEventType
from agent.watch_labels import WATCH_LABEL
from graph.runner import RunResult
from server.crd import (
    EventEmitter,
    EventReason,
    WatchCondition,
    WatchPhase,
    WatchStatus,
    write_watch_status,
)
from server.runstore import RunStore
from server.runstore.models import RunRecord, RunStatus
from tools.kubernetes.client import KubeClient, Obj
from tools.result import ToolResult, TraceSink, discard

log = logging.getLogger(__name__)

HEALING_CONDITION = "Healing"
DIAGNOSIS_LIMIT = 512
HISTORY = 50
CACHE_SIZE = 1024

_DIAGNOSIS = re.compile(
    r"^diagnosis: (?P<category>\S+) at (?P<confidence>[0-9.]+)(?: \((?P<resource>.*)\))?$"
)
_TARGET_BREAKER_OPEN = re.compile(r"\bbreaker for \S+ is open\b")
_BUDGET_SPENT = "budget is spent"

_FINAL_PHASES = {
    RunStatus.HEALED: WatchPhase.HEALTHY,
    RunStatus.ESCALATED: WatchPhase.ESCALATED,
    RunStatus.REPORTED: WatchPhase.DEGRADED,
    RunStatus.REJECTED: WatchPhase.DEGRADED,
    RunStatus.FAILED: WatchPhase.DEGRADED,
    RunStatus.RECOVERED: WatchPhase.HEALTHY,
}
_FINAL_REASONS = {
    RunStatus.HEALED: "Healed",
    RunStatus.ESCALATED: "Escalated",
    RunStatus.REPORTED: "Reported",
    RunStatus.REJECTED: "Rejected",
    RunStatus.FAILED: "Failed",
    RunStatus.RECOVERED: "RecoveredWithoutAction",
}


@dataclass
class _RunInfo:
    """What the reporter knows about one run (cached per run id)."""

    target: WorkloadRef | None
    watch: tuple[str, str] | None  # (namespace, name) of the covering ParamedicWatch
    cap_reached: bool = False
    cap_reason: str = ""


def _first_line(text: object) -> str:
    for line in str(text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def _trim(text: str, limit: int = DIAGNOSIS_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _confidence(value: object) -> str:
    try:
        return f"{float(value):.2f}"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "?"


def diagnosis_line(diagnosis: object) -> str | None:
    """'category (confidence): explanation' (first line, trimmed) of a stored diagnosis, or None."""
    if not isinstance(diagnosis, Mapping) or not diagnosis.get("category"):
        return None
    line = f"{diagnosis['category']} ({_confidence(diagnosis.get('confidence'))})"
    explanation = _first_line(diagnosis.get("explanation"))
    return _trim(f"{line}: {explanation}" if explanation else line)


def latest_pr_url(actions: list[Any]) -> str | None:
    """The pull request URL of the newest action entry that has one."""
    urls = [str(a["pr_url"]) for a in actions if isinstance(a, Mapping) and a.get("pr_url")]
    return urls[-1] if urls else None


def healing_score(store: RunStore, target: WorkloadRef, history: int = HISTORY) -> float | None:
    """The share of the latest `history` finished runs on `target` that healed (None: no finished run)."""
    finished = [status for status in _FINAL_PHASES]
    page = store.list_runs(status=finished, namespace=target.namespace, workload=target.name, limit=history)
    runs = [r for r in page.items if r.target.kind.lower() == target.kind.lower()]
    if not runs:
        return None
    return sum(r.status is RunStatus.HEALED for r in runs) / len(runs)


class WatchReporter:
    """Turns a run's trace and end into Events and ParamedicWatch status (see the module docstring)."""

    def __init__(
        self,
        kube: KubeClient,
        store: RunStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        *,
        emitter: EventEmitter | None = None,
        history: int = HISTORY,
        sink: TraceSink = discard,
    ) -> None:
        self._kube = kube
        self._store = store
        self._clock = clock
        self._emitter = emitter or EventEmitter(kube, clock=clock, sink=sink)
        self._history = history
        self._sink = sink
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, _RunInfo] = OrderedDict()

    # -- the run service's listeners -----------------------------------------------------------

    def on_event(self, event: TraceEvent) -> list[ToolResult[Obj]]:
        """Report what this trace event means for the cluster; the writes' results (never raises)."""
        try:
            return self._on_event(event)
        except Exception:  # reporting is best effort: the run goes on
            log.exception("reporting trace event %s of run %s failed", event.type, event.run_id)
            return []

    def on_finished(self, record: RunRecord, result: RunResult | None) -> list[ToolResult[Obj]]:
        """Report the end of a drive (final status, or waiting for approval); results, never raises."""
        try:
            return self._on_finished(record, result)
        except Exception:
            log.exception("reporting the end of run %s failed", record.id)
            return []

    # -- internals -----------------------------------------------------------------------------

    def _info(self, run_id: str, record: RunRecord | None = None) -> _RunInfo:
        with self._lock:
            info = self._runs.get(run_id)
            if info is not None:
                self._runs.move_to_end(run_id)
                return info
        info = self._load(run_id, record)
        with self._lock:
            info = self._runs.setdefault(run_id, info)
            while len(self._runs) > CACHE_SIZE:
                self._runs.popitem(last=False)
        return info

    def _load(self, run_id: str, record: RunRecord | None) -> _RunInfo:
        try:
            record = record or self._store.get_run(run_id)
        except Exception:
            log.warning("run %s is not in the store; nothing to report on", run_id, exc_info=True)
            return _RunInfo(target=None, watch=None)
        watch: tuple[str, str] | None = None
        if record.incident_id:
            try:
                labels = self._store.get_incident(record.incident_id).labels
            except Exception:
                log.warning("incident %s of run %s unreadable", record.incident_id, run_id, exc_info=True)
                labels = {}
            key = labels.get(WATCH_LABEL, "")
            namespace, _, name = key.partition("/")
            if namespace and name:
                watch = (namespace, name)
        return _RunInfo(target=record.target, watch=watch)

    def _emit(self, target: WorkloadRef, reason: EventReason, message: str) -> ToolResult[Obj]:
        result = self._emitter.emit(target, reason, message)
        if not result.ok:
            log.warning("could not record %s on %s: %s", reason.value, target, result.error)
        return result

    def _status(self, info: _RunInfo, status: WatchStatus) -> list[ToolResult[Obj]]:
        if info.watch is None:
            return []
        namespace, name = info.watch
        result = write_watch_status(self._kube, namespace, name, status, clock=self._clock, sink=self._sink)
        if not result.ok:
            log.warning(
                "could not write the status of ParamedicWatch %s/%s: %s", namespace, name, result.error
            )
        return [result]

    def _on_event(self, event: TraceEvent) -> list[ToolResult[Obj]]:
        kind, node = event.type, event.node
        interesting = (
            (kind is TraceEventType.NODE_END and node == "analyst")
            or (kind is TraceEventType.NODE_START and node == "remediation")
            or kind is TraceEventType.ACTION
            or kind is TraceEventType.NOTE
            or kind is TraceEventType.DECISION
        )
        if not interesting:
            return []
        info = self._info(event.run_id)
        if info.target is None:
            return []
        if kind is TraceEventType.NODE_END:
            return self._diagnosed(info, info.target, event.summary)
        if kind is TraceEventType.NODE_START:
            condition = WatchCondition(
                type=HEALING_CONDITION, status="True", reason="RemediationStarted",
                message=f"remediating {info.target}",
            )  # fmt: skip
            return self._status(info, WatchStatus(phase=WatchPhase.HEALING, conditions=[condition]))
        if kind is TraceEventType.ACTION:
            return self._action(info, info.target, event)
        if kind is TraceEventType.NOTE and _BUDGET_SPENT in event.summary:
            info.cap_reached, info.cap_reason = True, event.summary
        elif kind is TraceEventType.DECISION and event.payload.get("route") == "escalate":
            rationale = _first_line(event.payload.get("rationale"))
            if _TARGET_BREAKER_OPEN.search(rationale):
                info.cap_reached, info.cap_reason = True, rationale
        return []

    def _diagnosed(self, info: _RunInfo, target: WorkloadRef, summary: str) -> list[ToolResult[Obj]]:
        match = _DIAGNOSIS.match(summary.strip())
        if match is None:  # "no diagnosis: ..." - nothing to announce
            return []
        category, confidence = match["category"], _confidence(match["confidence"])
        message = f"diagnosed {category} at confidence {confidence}"
        if match["resource"]:
            message += f" ({match['resource']})"
        results = [self._emit(target, EventReason.DIAGNOSIS_COMPLETE, message)]
        results += self._status(info, WatchStatus(last_diagnosis=_trim(f"{category} ({confidence})")))
        return results

    def _action(self, info: _RunInfo, target: WorkloadRef, event: TraceEvent) -> list[ToolResult[Obj]]:
        details = event.payload.get("details") or {}
        if not isinstance(details, Mapping):
            return []
        outcome = result if isinstance(result := details.get("result"), Mapping) else {}
        ok = outcome.get("status") == "ok"
        pr_url = str(details.get("pr_url") or "")
        results: list[ToolResult[Obj]] = []
        if ok and event.node == "remediation" and (pr_url or details.get("applied")):
            action = str(event.payload.get("action") or details.get("action") or "remediation")
            if pr_url:
                message = f"{action}: pull request {pr_url}"
                if details.get("pending_merge"):
                    message += " (waits for a human to merge)"
            else:
                message = f"{action} applied: {outcome.get('detail') or event.payload.get('what') or ''}"
            results.append(self._emit(target, EventReason.REMEDIATION_PROPOSED, message))
        if pr_url:
            results += self._status(info, WatchStatus(last_pull_request=pr_url))
        return results

    def _on_finished(self, record: RunRecord, result: RunResult | None) -> list[ToolResult[Obj]]:
        info = self._info(record.id, record)
        results: list[ToolResult[Obj]] = []
        outcome_reason = _first_line((result.state.get("outcome_reason") if result else None) or record.error)
        if record.status is RunStatus.ESCALATED:
            if not info.cap_reached and _TARGET_BREAKER_OPEN.search(outcome_reason):
                info.cap_reached, info.cap_reason = True, outcome_reason
            if info.cap_reached:
                message = f"healing cap reached, escalated to a human: {outcome_reason or info.cap_reason}"
                results.append(self._emit(record.target, EventReason.HEALING_CAP_REACHED, message))
        if info.watch is not None:
            results += self._status(info, self._final_status(record, outcome_reason))
        if not record.status.active:
            with self._lock:
                self._runs.pop(record.id, None)
        return results

    def _final_status(self, record: RunRecord, reason: str) -> WatchStatus:
        phase = _FINAL_PHASES.get(record.status)
        if phase is None:  # still active: waiting for a human's approval, or a merge
            merge = record.status is RunStatus.WAITING_MERGE
            what = "the merge of its pull request" if merge else "approval"
            waiting = "AwaitingMerge" if merge else "AwaitingApproval"
            condition = WatchCondition(
                type=HEALING_CONDITION, status="Unknown", reason=waiting,
                message=_trim(reason or f"run {record.id} waits for {what}", 1024),
            )  # fmt: skip
            return WatchStatus(last_diagnosis=diagnosis_line(record.diagnosis), conditions=[condition])
        condition = WatchCondition(
            type=HEALING_CONDITION, status="False", reason=_FINAL_REASONS[record.status],
            message=_trim(reason or f"run {record.id} {record.status.value}", 1024),
        )  # fmt: skip
        score = healing_score(self._store, record.target, self._history)
        return WatchStatus(
            phase=phase,
            last_diagnosis=diagnosis_line(record.diagnosis),
            last_pull_request=latest_pr_url(record.actions),
            healing_score=score,
            conditions=[condition],
        )
