"""The keys of `EvidenceItem.data`, per evidence kind: the one contract between evidence gatherers
(the analyst node, tools/evidence) and evidence readers (the reasoners, the auditor).

Gatherers build `data` with these TypedDicts; readers get it back typed through the accessors at
the end (`commit_data(item)["sha"]`), which also check the item's kind.

Every key is optional (`total=False`): gatherers fill what the cluster shows, readers must cope with
gaps and fall back to the item's `text`. Values are plain JSON types so the data survives the run
store. Quantities stay in Kubernetes notation (`"256Mi"`, `"500m"`) unless the key says bytes.

Item ids are stable and citable; the suggested shapes are
`status:pod/<pod>`, `status:deployment/<name>`, `status:node/<node>`, `event:<uid-or-n>`,
`log:<pod>:<container>[:previous]`, `metric:<name>:<container>`, `manifest:<kind>/<name>`,
`commit:<sha>`, `rollout:<revision>`, `alert:<name>`.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict, cast

from agent.domain import EvidenceItem, EvidenceKind


class ConditionData(TypedDict, total=False):
    """A Kubernetes condition as the API shows it (pod, deployment or node)."""

    type: str  # PodScheduled, Ready, Available, Progressing, MemoryPressure, DiskPressure, ...
    status: Literal["True", "False", "Unknown"]
    reason: str
    message: str


class ContainerStatusData(TypedDict, total=False):
    """One entry of `status.containerStatuses`, flattened."""

    name: str
    image: str
    ready: bool
    restart_count: int
    state: Literal["waiting", "running", "terminated"]
    waiting_reason: str  # CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError, ...
    waiting_message: str  # e.g. 'couldn't find key DB_URL in ConfigMap shop/web-api-config'
    terminated_reason: str  # of the current state, when terminated
    last_terminated_reason: str  # of `lastState.terminated`: OOMKilled, Error, StartError, ...
    last_terminated_message: str
    exit_code: int  # of the last termination (current state first, then lastState)


class PodStatusData(TypedDict, total=False):
    """STATUS item for a Pod (`object_kind: "Pod"`)."""

    object_kind: Literal["Pod"]
    pod: str
    node: str
    phase: str  # Pending, Running, Succeeded, Failed, Unknown
    reason: str  # pod-level reason, e.g. Evicted
    message: str  # e.g. 'The node was low on resource: memory. ...'
    conditions: list[ConditionData]
    containers: list[ContainerStatusData]


class WorkloadStatusData(TypedDict, total=False):
    """STATUS item for the workload or another Deployment (`object_kind: "Deployment"`)."""

    object_kind: Literal["Deployment", "StatefulSet", "DaemonSet"]
    name: str
    namespace: str
    replicas: int  # desired: spec.replicas
    ready_replicas: int
    available_replicas: int
    updated_replicas: int
    conditions: list[ConditionData]


class NodeStatusData(TypedDict, total=False):
    """STATUS item for a Node (`object_kind: "Node"`)."""

    object_kind: Literal["Node"]
    node: str
    allocatable: dict[str, str]  # {"cpu": "2", "memory": "4Gi"}
    capacity: dict[str, str]
    conditions: list[ConditionData]
    taints: list[dict[str, str]]  # {"key", "value", "effect"}


class EventData(TypedDict, total=False):
    """EVENT item: one (aggregated) Kubernetes event."""

    reason: str  # BackOff, Failed, FailedScheduling, Unhealthy, Killing, OOMKilling, Evicted, ...
    type: Literal["Normal", "Warning"]
    count: int
    message: str  # kubelet/controller wording, e.g. 'Readiness probe failed: HTTP probe failed ...'
    involved_kind: str
    involved_name: str
    last_seen: str  # ISO 8601


class LogData(TypedDict, total=False):
    """LOG item: the (redacted, capped) tail of one container's log; the lines are in `text`."""

    pod: str
    container: str
    previous: bool  # True for the log of the previous (crashed) instance


class MetricData(TypedDict, total=False):
    """METRIC item: one series summarised, e.g. working set against its limit."""

    name: str  # container_memory_working_set_bytes, kube_deployment_spec_replicas, ...
    container: str
    pod: str
    value: float  # latest value
    max: float  # max over the window
    limit: float  # the limit the value is measured against (same unit), if any
    previous: float  # the value before the change, for step-shaped series (e.g. replicas 3 -> 0)
    unit: str  # bytes, cores, count
    samples: list[float]  # oldest first, evenly spaced, optional


class ManifestData(TypedDict, total=False):
    """MANIFEST item: a related object's cleaned manifest, e.g. a ConfigMap the workload reads."""

    object_kind: str  # ConfigMap, Secret (keys only, never values), Service, Deployment
    name: str
    namespace: str
    keys: list[str]  # for ConfigMaps and Secrets
    manifest: dict[str, Any]  # cleaned; Secret values are never included


class CommitData(TypedDict, total=False):
    """COMMIT item: a recent commit in the GitOps repository touching the workload's files.

    Gatherers list COMMIT items newest first; readers treat the first matching commit as the suspect.
    """

    sha: str
    message: str
    author: str
    date: str  # ISO 8601
    diff: str  # unified diff, capped
    files: list[str]


class RolloutData(TypedDict, total=False):
    """ROLLOUT item: one revision of the workload (a ReplicaSet's template), newest last."""

    revision: int
    template: dict[str, Any]  # the pod template: {"metadata": ..., "spec": {"containers": [...]}}
    change_cause: str
    current: bool  # True for the revision the Deployment runs now


class VerificationData(TypedDict, total=False):
    """STATUS item for what verification saw after an earlier attempt (`object_kind: "Verification"`)."""

    object_kind: Literal["Verification"]
    attempt: int
    healthy: bool


class AlertData(TypedDict, total=False):
    """ALERT item: an Alertmanager alert; annotations are untrusted text."""

    alertname: str
    severity: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: str


def _data_of(item: EvidenceItem, kind: EvidenceKind) -> dict[str, Any]:
    if item.kind is not kind:
        raise ValueError(f"evidence item {item.id} is {item.kind.value}, not {kind.value}")
    return item.data


def commit_data(item: EvidenceItem) -> CommitData:
    """A COMMIT item's data, typed; raises ValueError for an item of another kind."""
    return cast(CommitData, _data_of(item, EvidenceKind.COMMIT))


def rollout_data(item: EvidenceItem) -> RolloutData:
    """A ROLLOUT item's data, typed; raises ValueError for an item of another kind."""
    return cast(RolloutData, _data_of(item, EvidenceKind.ROLLOUT))


def metric_data(item: EvidenceItem) -> MetricData:
    """A METRIC item's data, typed; raises ValueError for an item of another kind."""
    return cast(MetricData, _data_of(item, EvidenceKind.METRIC))
