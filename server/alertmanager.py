"""Alertmanager webhook payloads (version 4) and how their alerts become incidents.

An alert becomes an `Incident` only when its *labels* name a workload. Labels come from the
alerting rule and the scraped series (kube-state-metrics), so they are the part of an alert an
operator controls; annotations are free text filled from templates and are kept only as
untrusted data (the incident's summary and `annotation.*` labels): nothing here reads a
workload, a namespace or an action out of them.

How labels name a workload, first match wins:

1. `workload`: `deploy/NAME`, `sts/NAME`, `ds/NAME` (with the `namespace` label) or
   `NAMESPACE/deploy/NAME`;
2. `namespace` plus `deployment`, `statefulset` or `daemonset` (kube-state-metrics names);
3. `namespace` plus `pod`, by the controllers' pod-naming conventions: `NAME-<hash>-<suffix>`
   (a ReplicaSet's pod: the Deployment NAME), `NAME-<ordinal>` (a StatefulSet), `NAME-<suffix>`
   (a DaemonSet). The hash and suffix use Kubernetes' safe alphabet (no vowels, no 0/1/3), so
   ordinary hyphenated names are not mistaken for them.

An alert matching none is ignored, with the reason, and so is a resolved alert.

What is kept of an alert is redacted here, where it enters Paramedic, like everything the tools read
(`tools.boundary`): a token in an annotation, a password in a generator URL or a label never reaches
the run store, a prompt, the API or a log. Labels are judged by their names too (`annotation.api_token`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agent.config import ScopeSettings
from agent.domain import Incident, Trigger, WorkloadRef, fingerprint
from tools.boundary import redact_text, redact_value

MAX_ALERTS = 10_000  # one webhook call; an alert storm of 1,000 pods fits with room to spare
MAX_LABELS = 200
MAX_TEXT = 16_384  # per label or annotation value; longer values are refused, not truncated
SUMMARY_LIMIT = 2_000  # the incident summary is a preview; the full annotations are labels

# Kubernetes names: DNS-1123 labels (namespaces) and subdomains (workloads).
_NAMESPACE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
# k8s.io/apimachinery/pkg/util/rand: the alphabet of pod-template hashes and generated suffixes.
_SAFE = "[bcdfghjklmnpqrstvwxz2456789]"
_REPLICASET_POD = re.compile(rf"^(?P<name>.+)-{_SAFE}{{6,10}}-{_SAFE}{{5}}$")
_STATEFULSET_POD = re.compile(r"^(?P<name>.+)-(?P<ordinal>0|[1-9][0-9]{0,4})$")
_DAEMONSET_POD = re.compile(rf"^(?P<name>.+)-{_SAFE}{{5}}$")
_KIND_LABELS = (("deployment", "Deployment"), ("statefulset", "StatefulSet"), ("daemonset", "DaemonSet"))

# Label names and values are bounded so one hostile payload cannot fill the store.
LabelSet = dict[
    Annotated[str, StringConstraints(max_length=256)], Annotated[str, StringConstraints(max_length=MAX_TEXT)]
]


class AlertmanagerAlert(BaseModel):
    """One alert of a notification."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: Literal["firing", "resolved"]
    labels: LabelSet = Field(default_factory=dict, max_length=MAX_LABELS)
    annotations: LabelSet = Field(default_factory=dict, max_length=MAX_LABELS)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = Field(default="", max_length=MAX_TEXT)
    fingerprint: str = Field(default="", max_length=256)


class AlertmanagerPayload(BaseModel):
    """The webhook body Alertmanager posts (`webhook_config`, payload version 4)."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    groupKey: str = Field(max_length=MAX_TEXT)
    truncatedAlerts: int = Field(default=0, ge=0)
    status: Literal["firing", "resolved"]
    receiver: str = Field(default="", max_length=MAX_TEXT)
    groupLabels: LabelSet = Field(default_factory=dict, max_length=MAX_LABELS)
    commonLabels: LabelSet = Field(default_factory=dict, max_length=MAX_LABELS)
    commonAnnotations: LabelSet = Field(default_factory=dict, max_length=MAX_LABELS)
    externalURL: str = Field(default="", max_length=MAX_TEXT)
    alerts: list[AlertmanagerAlert] = Field(max_length=MAX_ALERTS)


@dataclass(frozen=True)
class Mapped:
    """An alert that names a workload, as an incident to record and submit."""

    incident: Incident


@dataclass(frozen=True)
class Ignored:
    """An alert that opens nothing, and why."""

    reason: str


def workload_of(labels: LabelSet) -> WorkloadRef | str:
    """The workload the labels name, or the reason they name none."""
    namespace = labels.get("namespace", "").strip()
    if workload := labels.get("workload", "").strip():
        try:
            ref = WorkloadRef.parse(workload, default_namespace=namespace or None)
        except ValueError as exc:
            return f"label workload={workload!r}: {exc}"
        return _checked(ref)
    if not namespace:
        return "no namespace label, so no workload to heal"
    for label, kind in _KIND_LABELS:
        if name := labels.get(label, "").strip():
            return _checked(WorkloadRef(namespace=namespace, kind=kind, name=name))
    if pod := labels.get("pod", "").strip():
        owner = _owner_of_pod(namespace, pod)
        return _checked(owner) if isinstance(owner, WorkloadRef) else owner
    return "no workload, deployment, statefulset, daemonset or pod label"


def _owner_of_pod(namespace: str, pod: str) -> WorkloadRef | str:
    for pattern, kind in (
        (_REPLICASET_POD, "Deployment"),
        (_STATEFULSET_POD, "StatefulSet"),
        (_DAEMONSET_POD, "DaemonSet"),
    ):
        if match := pattern.match(pod):
            return WorkloadRef(namespace=namespace, kind=kind, name=match["name"])
    return f"pod {pod!r} does not follow a Deployment, StatefulSet or DaemonSet naming pattern"


def _checked(ref: WorkloadRef) -> WorkloadRef | str:
    if not _NAMESPACE.match(ref.namespace):
        return f"namespace {ref.namespace!r} is not a valid Kubernetes namespace name"
    if not _NAME.match(ref.name):
        return f"workload name {ref.name!r} is not a valid Kubernetes object name"
    return ref


def _no_nul(text: str) -> str:
    return text.replace("\x00", "\ufffd")


def in_scope(target: WorkloadRef, scope: ScopeSettings) -> str | None:
    """Why `target` is outside the configured scope, or None: alerts obey the watcher's scope."""
    if scope.namespaces and target.namespace not in scope.namespaces:
        return f"namespace {target.namespace!r} is not in scope.namespaces"
    if target.namespace in scope.exclude_namespaces:
        return f"namespace {target.namespace!r} is excluded by scope.exclude_namespaces"
    key = f"{target.namespace}/{target.kind.lower()}/{target.name}"
    for pattern in scope.exclude_workloads:
        if fnmatchcase(key, pattern):
            return f"workload {key} is excluded by scope.exclude_workloads ({pattern!r})"
    return None


def incident_of(
    alert: AlertmanagerAlert, payload: AlertmanagerPayload, scope: ScopeSettings
) -> Mapped | Ignored:
    """Map one alert: an incident for a firing alert naming an in-scope workload, else the reason."""
    if alert.status != "firing":
        return Ignored("resolved alerts open nothing")
    # The notification's common labels apply to every alert; the alert's own win.
    labels = {**payload.commonLabels, **alert.labels}
    target = workload_of(labels)
    if isinstance(target, str):
        return Ignored(target)
    if out := in_scope(target, scope):
        return Ignored(out)
    alertname = labels.get("alertname", "").strip() or "Alert"
    # The same workload failing the same alert folds, whichever pod or replica fired it.
    print_ = fingerprint(target, f"alert:{alertname}")
    annotations = {**payload.commonAnnotations, **alert.annotations}
    stored = dict(labels)
    stored.update({f"annotation.{k}": v for k, v in annotations.items()})
    stored.update(
        {
            "alertmanager.group_key": payload.groupKey,
            "alertmanager.fingerprint": alert.fingerprint,
            "alertmanager.receiver": payload.receiver,
            "alertmanager.generator_url": alert.generatorURL,
        }
    )
    summary = annotations.get("summary") or annotations.get("description") or annotations.get("message", "")
    # PostgreSQL text and jsonb cannot hold NUL; the replacement character keeps the rest intact.
    stored = redact_value({_no_nul(k): _no_nul(v) for k, v in stored.items()})
    alertname, summary = redact_text(_no_nul(alertname)), redact_text(_no_nul(summary))
    started = alert.startsAt if alert.startsAt and alert.startsAt.year > 1 else datetime.now(UTC)
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return Mapped(
        Incident(
            id=f"alert-{uuid.uuid4().hex[:16]}",
            fingerprint=print_,
            target=target,
            trigger=Trigger.ALERT,
            reason=alertname,
            summary=summary[:SUMMARY_LIMIT],
            started_at=started,
            labels={k: v for k, v in stored.items() if v},
        )
    )
