"""Evidence items read into observations, one function per kind of item.

Item data is read through the evidence contract's models (`tools/evidence/item_data.py`), which the
producers also build, so a value of the wrong type reads as absent instead of failing. When a key
is absent the reading falls back to the same fact in the item's text (kubelet and controller
wording), so the rules work on both well-structured and bare evidence.
"""

from __future__ import annotations

import re

from agent.domain import EvidenceItem
from agent.reasoners.rules import observations as obs
from agent.reasoners.rules.status_text import container_from_text
from tools.evidence.item_data import (
    AnyStatusData,
    CommitData,
    EventData,
    LogData,
    ManifestData,
    MetricData,
    NodeStatusData,
    PodStatusData,
    RolloutData,
    ServiceStatusData,
    WorkloadStatusData,
)
from tools.kubernetes.manifest import clean_manifest


def containers(item: EvidenceItem, data: AnyStatusData) -> list[obs.ContainerObs]:
    """The container statuses of a pod STATUS item (structured, else recognised in its text)."""
    if not isinstance(data, PodStatusData):
        return []
    if data.containers:
        return [
            obs.ContainerObs(
                item_id=item.id,
                pod=data.pod or item.source,
                name=c.name,
                ready=c.ready,
                restart_count=c.restart_count or 0,
                waiting_reason=c.waiting_reason,
                waiting_message=c.waiting_message,
                terminated_reason=c.terminated_reason,
                last_terminated_reason=c.last_terminated_reason,
                last_terminated_message=c.last_terminated_message,
                exit_code=c.exit_code,
                init=c.init,
            )
            for c in data.containers
        ]
    return [container_from_text(item)] if not data.object_kind and not item.data else []


def pod(item: EvidenceItem, data: AnyStatusData) -> obs.PodObs | None:
    """A pod STATUS item's phase, reason and conditions; untagged data counts when it names a pod."""
    if not isinstance(data, PodStatusData) or not (data.object_kind == "Pod" or "pod" in item.data):
        return None
    return obs.PodObs(
        item_id=item.id,
        phase=data.phase,
        reason=data.reason,
        message=data.message,
        node=data.node,
        conditions=tuple(data.conditions),
    )


def workload(item: EvidenceItem, data: AnyStatusData) -> obs.WorkloadObs | None:
    """A workload STATUS item's replica counts."""
    if not isinstance(data, WorkloadStatusData):
        return None
    return obs.WorkloadObs(
        item_id=item.id, name=data.name, replicas=data.replicas, ready_replicas=data.ready_replicas
    )


def node(item: EvidenceItem, data: AnyStatusData) -> obs.NodeObs | None:
    """A node STATUS item's allocatable resources and conditions."""
    if not isinstance(data, NodeStatusData):
        return None
    return obs.NodeObs(
        item_id=item.id,
        node=data.node or item.source,
        allocatable=data.allocatable,
        conditions=tuple(data.conditions),
        labels=data.labels,
        unschedulable=data.unschedulable,
    )


def service(item: EvidenceItem, data: AnyStatusData) -> obs.ServiceObs | None:
    """A Service STATUS item's selector and the labelled pods of its namespace."""
    if not isinstance(data, ServiceStatusData):
        return None
    return obs.ServiceObs(
        item_id=item.id,
        name=data.name or item.source,
        selector=data.selector,
        pods=tuple((p.pod, p.labels, p.ready is True) for p in data.pods),
    )


def event(item: EvidenceItem) -> obs.EventObs:
    """An EVENT item; without structured data its whole text is the message."""
    data = EventData.read(item.data)
    return obs.EventObs(
        item_id=item.id,
        reason=data.reason,
        message=data.message or item.text,
        involved_kind=data.involved_kind,
        involved_name=data.involved_name,
    )


def log(item: EvidenceItem) -> obs.LogObs:
    """A LOG item: the tail is its text; `:previous` ids mark a crashed instance too."""
    data = LogData.read(item.data)
    return obs.LogObs(
        item_id=item.id,
        text=item.text,
        pod=data.pod,
        container=data.container,
        previous=data.previous or item.id.endswith(":previous"),
    )


def metric(item: EvidenceItem) -> obs.MetricObs:
    """A METRIC item; without a name, its source names the series."""
    data = MetricData.read(item.data)
    return obs.MetricObs(
        item_id=item.id,
        name=data.name or item.source,
        container=data.container,
        value=data.value,
        max=data.max,
        limit=data.limit,
        previous=data.previous,
        samples=tuple(data.samples),
    )


def manifest(item: EvidenceItem) -> obs.ManifestObs:
    """A MANIFEST item; kind, name and keys come from the manifest itself when not given."""
    data = ManifestData.read(item.data)
    body = data.manifest
    keys = data.keys
    if keys is None and isinstance(body.get("data"), dict):
        keys = [str(k) for k in body["data"]]
    metadata = body.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kind = body.get("kind")
    return obs.ManifestObs(
        item_id=item.id,
        kind=data.object_kind or (kind if isinstance(kind, str) else ""),
        name=data.name or (name if isinstance(name, str) else ""),
        keys=tuple(keys or ()),
    )


def commit(item: EvidenceItem) -> obs.CommitObs:
    """A COMMIT item; without data, the id holds the sha and the text the message and diff."""
    data = CommitData.read(item.data)
    diff = data.diff or item.text
    # A history read for one manifest lists only that file; the diff shows every file the commit
    # changed (a ConfigMap committed with the Deployment's checksum bump).
    changed = [m.group(1) for m in _DIFF_FILE.finditer(diff) if m.group(1) != "/dev/null"]
    return obs.CommitObs(
        item_id=item.id,
        sha=data.sha or item.id.removeprefix("commit:"),
        message=data.message or (item.text.splitlines() or [""])[0],
        diff=diff,
        files=tuple(dict.fromkeys([*data.files, *changed])),
    )


_DIFF_FILE = re.compile(r"^(?:\+\+\+ b/|--- a/)(\S+)", re.MULTILINE)


def rollout(item: EvidenceItem) -> obs.RolloutObs | None:
    """A ROLLOUT item, or None when it does not say which revision it is."""
    data = RolloutData.read(item.data)
    if data.revision is None:
        return None
    # The ReplicaSet's template keeps the server's defaults (what `rollout undo` copies) where the live
    # manifest is cleaned of them: compared as they are, a probe would differ from its revision's in
    # `failureThreshold: 3` alone, and "restoring" it would change nothing. Cleaned alike, they compare.
    cleaned = clean_manifest({"kind": "Deployment", "spec": {"template": data.template}})
    return obs.RolloutObs(
        item_id=item.id,
        revision=data.revision,
        template=(cleaned.get("spec") or {}).get("template") or {},
        current=data.current,
        replicas=data.replicas,
        ready_replicas=data.ready_replicas,
    )
