"""Paramedic's own writes to the cluster: ParamedicWatch status and Kubernetes Events.

- `write_watch_status` merges a `WatchStatus` into a ParamedicWatch through its status
  subresource (phase, last diagnosis, last pull request, healing score, last anomaly time,
  conditions; a condition keeps its lastTransitionTime while its status does not change);
- `EventEmitter.emit` records an Event on the watched object (`AnomalyDetected`,
  `DiagnosisComplete`, `RemediationProposed`, `HealingCapReached`), reported by `paramedic`.

Both answer a `ToolResult` (through `KubeClient.run`, which retries transient failures and emits
a trace event), never raise for an API failure.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from kubernetes import client as k8s
from pydantic import BaseModel, ConfigDict, Field

from agent.domain import Incident, WorkloadRef
from server.watcher.scope import WATCH_LABEL
from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import API_VERSIONS
from tools.result import ToolResult, TraceSink, discard

GROUP, VERSION, PLURAL = "paramedic.dev", "v1alpha1", "paramedicwatches"
REPORTING_COMPONENT = "paramedic"
MERGE_PATCH = "application/merge-patch+json"
WATCH_STATUS_TOOL = "paramedic.watch_status"
EMIT_EVENT_TOOL = "paramedic.emit_event"
_MESSAGE_LIMIT = 1024  # kube-apiserver truncates event messages near this size anyway

_API_VERSIONS = {**API_VERSIONS, "ParamedicWatch": f"{GROUP}/{VERSION}"}


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- ParamedicWatch status ---------------------------------------------------------------------


class WatchPhase(StrEnum):
    """`status.phase` of a ParamedicWatch."""

    HEALTHY = "Healthy"
    DEGRADED = "Degraded"
    HEALING = "Healing"
    ESCALATED = "Escalated"


class WatchCondition(BaseModel):
    """One entry of `status.conditions` (metav1.Condition shape)."""

    model_config = ConfigDict(frozen=True)

    type: str = Field(min_length=1, max_length=316)
    status: Literal["True", "False", "Unknown"]
    reason: str = Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$")
    message: str = Field(default="", max_length=32768)


class WatchStatus(BaseModel):
    """What Paramedic reports on a ParamedicWatch; fields left None are not touched."""

    phase: WatchPhase | None = None
    last_diagnosis: str | None = None
    last_pull_request: str | None = None
    healing_score: float | None = Field(default=None, ge=0.0, le=1.0)
    last_anomaly_time: datetime | None = None
    conditions: list[WatchCondition] = Field(default_factory=list)


def merge_conditions(
    existing: list[Mapping[str, Any]], updates: list[WatchCondition], now: datetime
) -> list[Obj]:
    """Existing conditions with `updates` applied; lastTransitionTime changes only when status does."""
    merged: dict[str, Obj] = {}
    for cond in existing:
        if isinstance(cond, Mapping) and isinstance(cond.get("type"), str):
            merged[cond["type"]] = dict(cond)
    for update in updates:
        old = merged.get(update.type)
        changed = old is None or old.get("status") != update.status or not old.get("lastTransitionTime")
        merged[update.type] = {
            "type": update.type,
            "status": update.status,
            "reason": update.reason,
            "message": update.message,
            "lastTransitionTime": _rfc3339(now) if changed else old["lastTransitionTime"],  # type: ignore[index]
        }
    return list(merged.values())


def status_patch(status: WatchStatus, current: Mapping[str, Any] | None, now: datetime) -> Obj:
    """The merge patch for the status subresource (conditions are a list, so they are sent whole)."""
    body: Obj = {}
    if status.phase is not None:
        body["phase"] = status.phase.value
    if status.last_diagnosis is not None:
        body["lastDiagnosis"] = status.last_diagnosis
    if status.last_pull_request is not None:
        body["lastPullRequest"] = status.last_pull_request
    if status.healing_score is not None:
        body["healingScore"] = status.healing_score
    if status.last_anomaly_time is not None:
        body["lastAnomalyTime"] = _rfc3339(status.last_anomaly_time)
    if status.conditions:
        existing = ((current or {}).get("status") or {}).get("conditions") or []
        body["conditions"] = merge_conditions(existing, status.conditions, now)
    return {"status": body}


def write_watch_status(
    kube: KubeClient,
    namespace: str,
    name: str,
    status: WatchStatus,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    sink: TraceSink = discard,
) -> ToolResult[Obj]:
    """Merge `status` into ParamedicWatch `namespace/name` through its status subresource."""
    custom = k8s.CustomObjectsApi(kube.api)

    def write() -> Obj:
        current = None
        if status.conditions:
            current = kube.json(
                f"get paramedicwatch {namespace}/{name}",
                custom.get_namespaced_custom_object,
                GROUP, VERSION, namespace, PLURAL, name,
            )  # fmt: skip
        return kube.json(
            f"patch paramedicwatch {namespace}/{name} status",
            custom.patch_namespaced_custom_object_status,
            GROUP, VERSION, namespace, PLURAL, name,
            status_patch(status, current, clock()),
            _content_type=MERGE_PATCH,
        )  # fmt: skip

    fields = sorted(k for k, v in status.model_dump(exclude_defaults=True).items() if v not in (None, []))
    return kube.run(
        WATCH_STATUS_TOOL,
        {"namespace": namespace, "name": name, "fields": fields},
        write,
        sink,
        summarize=lambda obj: f"status of {namespace}/{name}: {((obj.get('status') or {}).get('phase'))}",
    )


# -- Kubernetes Events -------------------------------------------------------------------------


class EventReason(StrEnum):
    """The reasons Paramedic records Events with."""

    ANOMALY_DETECTED = "AnomalyDetected"
    DIAGNOSIS_COMPLETE = "DiagnosisComplete"
    REMEDIATION_PROPOSED = "RemediationProposed"
    HEALING_CAP_REACHED = "HealingCapReached"


# Each reason's Event `type` and `action`.
_TYPE_AND_ACTION = {
    EventReason.ANOMALY_DETECTED: ("Warning", "Detect"),
    EventReason.DIAGNOSIS_COMPLETE: ("Normal", "Diagnose"),
    EventReason.REMEDIATION_PROPOSED: ("Normal", "Propose"),
    EventReason.HEALING_CAP_REACHED: ("Warning", "Escalate"),
}


def event_body(
    target: WorkloadRef,
    reason: EventReason,
    message: str,
    now: datetime,
    *,
    uid: str | None = None,
    instance: str = "",
) -> Obj:
    """A core/v1 Event about `target`, as kubectl describe shows Paramedic's."""
    flat = " ".join(message.split())
    if not flat:
        raise ValueError("an event needs a message")
    event_type, action = _TYPE_AND_ACTION[reason]
    involved: Obj = {
        "apiVersion": _API_VERSIONS.get(target.kind, ""),
        "kind": target.kind,
        "namespace": target.namespace,
        "name": target.name,
    }
    if uid:
        involved["uid"] = uid
    stamp = _rfc3339(now)
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            # client-go names events <object>.<unique suffix>; keep within the 253-character limit
            "name": f"{target.name[:200]}.{uuid.uuid4().hex[:16]}",
            "namespace": target.namespace,
        },
        "involvedObject": involved,
        "reason": reason.value,
        "message": flat if len(flat) <= _MESSAGE_LIMIT else flat[: _MESSAGE_LIMIT - 1] + "…",
        "type": event_type,
        "action": action,
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": instance,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }


class EventEmitter:
    """Records Paramedic's Events on watched objects."""

    def __init__(
        self,
        kube: KubeClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        instance: str | None = None,
        sink: TraceSink = discard,
    ) -> None:
        self._kube = kube
        self._clock = clock
        self._instance = instance if instance is not None else socket.gethostname()
        self._sink = sink

    def emit(
        self, target: WorkloadRef, reason: EventReason, message: str, *, uid: str | None = None
    ) -> ToolResult[Obj]:
        """Create one Event on `target` (a bad message is a ValueError; API failures are a result)."""
        body = event_body(target, reason, message, self._clock(), uid=uid, instance=self._instance)
        core = k8s.CoreV1Api(self._kube.api)
        return self._kube.run(
            EMIT_EVENT_TOOL,
            {"target": str(target), "reason": reason.value},
            lambda: self._kube.json(
                f"create event in {target.namespace}", core.create_namespaced_event, target.namespace, body
            ),
            self._sink,
            summarize=lambda obj: f"{reason.value} on {target}",
        )


# -- what the watcher reports when it dispatches an incident -----------------------------------


class AnomalyReporter:
    """Records a dispatched incident on the cluster: an `AnomalyDetected` Event on its workload and,
    when a ParamedicWatch covers the workload, phase Degraded and lastAnomalyTime on that watch."""

    def __init__(
        self, kube: KubeClient, emitter: EventEmitter | None = None, *, sink: TraceSink = discard
    ) -> None:
        self._kube = kube
        self._emitter = emitter or EventEmitter(kube, sink=sink)
        self._sink = sink

    def __call__(self, incident: Incident) -> list[ToolResult[Obj]]:
        """Both writes' results (failures are results, never exceptions)."""
        message = f"{incident.reason}: {incident.summary}" if incident.summary else incident.reason
        results = [self._emitter.emit(incident.target, EventReason.ANOMALY_DETECTED, message)]
        watch = incident.labels.get(WATCH_LABEL, "")
        if "/" in watch:
            namespace, name = watch.split("/", 1)
            status = WatchStatus(phase=WatchPhase.DEGRADED, last_anomaly_time=incident.started_at)
            results.append(write_watch_status(self._kube, namespace, name, status, sink=self._sink))
        return results
