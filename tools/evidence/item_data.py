"""The shape of `EvidenceItem.data`, per evidence kind: the one contract between the evidence
producers (tools/evidence/render.py, graph/evidence.py) and its readers (the rules' evidence view).

Producers build these models and store `model.dump()`: plain JSON, only the keys they set, so the
items in checkpoints, the run store and prompts look exactly as they always did. Readers validate
`item.data` back into the same models, and must cope with gaps: every key is optional, and a value
of the wrong type (stored by an older version, or forged) reads as absent instead of failing. So
validating never raises, whatever the data holds.

Quantities stay in Kubernetes notation (`"256Mi"`, `"500m"`) unless the key says bytes. Item ids are
stable and citable: `status:pod/<pod>`, `status:deployment/<name>`, `status:node/<node>`,
`event:<n>`, `log:<pod>:<container>[:previous]`, `metric:<name>:<container>`,
`manifest:<kind>/<name>`, `commit:<sha12>`, `rollout:<revision>`, `memory:<run id>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Tag, TypeAdapter, model_validator


def _as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_count(value: Any) -> int | None:
    """A count as readers take it: an int or a string of digits; anything else (bools too) is None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _only_dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _entries(value: Any) -> list[Any]:
    # Entries of a list of models: dicts (read from storage) or models (built by a producer).
    return [v for v in value if isinstance(v, dict | BaseModel)] if isinstance(value, list) else []


def _as_strings(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _as_numbers(value: Any) -> list[float]:
    if not isinstance(value, list):
        return []
    return [n for n in (_as_float(v) for v in value) if n is not None]


def _as_quantities(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


Text = Annotated[str, BeforeValidator(_as_str)]
Count = Annotated[int | None, BeforeValidator(as_count)]
Number = Annotated[float | None, BeforeValidator(_as_float)]
MaybeBool = Annotated[bool | None, BeforeValidator(lambda v: v if isinstance(v, bool) else None)]
Flag = Annotated[bool, BeforeValidator(lambda v: v is True)]  # only a real `true` counts
JsonObject = Annotated[dict[str, Any], BeforeValidator(lambda v: v if isinstance(v, dict) else {})]
JsonObjects = Annotated[list[dict[str, Any]], BeforeValidator(_only_dicts)]
Strings = Annotated[list[str], BeforeValidator(_as_strings)]
MaybeStrings = Annotated[
    list[str] | None, BeforeValidator(lambda v: _as_strings(v) if isinstance(v, list) else None)
]
Numbers = Annotated[list[float], BeforeValidator(_as_numbers)]
Quantities = Annotated[dict[str, str], BeforeValidator(_as_quantities)]  # {"cpu": "2", "memory": "4Gi"}
Labels = Annotated[dict[str, str], BeforeValidator(_as_quantities)]  # {"disktype": "ssd"}


class EvidenceData(BaseModel):
    """Base of every item's data: lenient on read, exact on write, extra keys kept as they are."""

    model_config = ConfigDict(extra="allow", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _none_is_absent(cls, data: Any) -> Any:
        # A key set to None means "not shown"; dropping it keeps it out of `dump()` as well.
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if v is not None}
        return data

    @classmethod
    def read(cls, data: Mapping[str, Any]) -> Self:
        """The data of a stored item; never raises (wrong-typed values read as absent)."""
        return cls.model_validate(data)

    def dump(self) -> dict[str, Any]:
        """The JSON stored in `EvidenceItem.data`: the keys that were set, in declaration order."""
        return self.model_dump(exclude_unset=True)


class ConditionData(EvidenceData):
    """A Kubernetes condition as the API shows it (pod, deployment or node)."""

    type: Text = ""  # PodScheduled, Ready, Available, Progressing, MemoryPressure, ...
    status: Text = ""  # "True", "False", "Unknown"
    reason: Text = ""
    message: Text = ""


Conditions = Annotated[list[ConditionData], BeforeValidator(_entries)]


class ContainerStatusData(EvidenceData):
    """One entry of `status.containerStatuses`, flattened."""

    name: Text = ""
    image: Text = ""
    ready: MaybeBool = None
    restart_count: Count = None
    state: Text = ""  # waiting, running, terminated
    init: Flag = False  # an init container (set only when true)
    waiting_reason: Text = ""  # CrashLoopBackOff, ImagePullBackOff, CreateContainerConfigError, ...
    waiting_message: Text = ""  # e.g. "couldn't find key DB_URL in ConfigMap shop/web-api-config"
    terminated_reason: Text = ""  # of the current state, when terminated
    last_terminated_reason: Text = ""  # of `lastState.terminated`: OOMKilled, Error, StartError, ...
    last_terminated_message: Text = ""
    exit_code: Count = None  # of the current termination, else of the last one


Containers = Annotated[list[ContainerStatusData], BeforeValidator(_entries)]


class PodStatusData(EvidenceData):
    """STATUS item for a Pod (`object_kind: "Pod"`; untagged legacy status data reads as this too)."""

    object_kind: Text = ""
    pod: Text = ""
    node: Text = ""
    phase: Text = ""  # Pending, Running, Succeeded, Failed, Unknown
    ready: MaybeBool = None
    restarts: Count = None
    conditions: Conditions = []
    containers: Containers = []
    reason: Text = ""  # pod-level, e.g. Evicted
    message: Text = ""  # e.g. "The node was low on resource: memory. ..."


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class WorkloadStatusData(EvidenceData):
    """STATUS item for the workload or another one in its namespace (`object_kind: "Deployment"`, ...)."""

    object_kind: Text = ""
    name: Text = ""
    namespace: Text = ""
    replicas: Count = None  # desired: spec.replicas
    ready_replicas: Count = None
    available_replicas: Count = None
    updated_replicas: Count = None
    unavailable_replicas: Count = None
    conditions: Conditions = []
    revision: Count = None  # deployment.kubernetes.io/revision
    paused: Flag = False


class NodeStatusData(EvidenceData):
    """STATUS item for a Node (`object_kind: "Node"`)."""

    object_kind: Text = ""
    node: Text = ""
    allocatable: Quantities = {}
    capacity: Quantities = {}
    conditions: Conditions = []
    taints: JsonObjects = []  # {"key", "value", "effect"}
    labels: Labels = {}  # the node's labels, what nodeSelector and affinity match against
    unschedulable: Flag = False  # cordoned (spec.unschedulable)


class LabelledPodData(EvidenceData):
    """A pod of a Service's namespace: its labels and whether it is ready."""

    pod: Text = ""
    labels: Labels = {}
    ready: MaybeBool = None
    owner: Text = ""  # Kind/name of its controller


LabelledPods = Annotated[list[LabelledPodData], BeforeValidator(_entries)]


class ServiceStatusData(EvidenceData):
    """STATUS item for a Service (`object_kind: "Service"`): its selector, its ports, and the pods of
    its namespace with their labels (`selected` says which ones the selector matches)."""

    object_kind: Text = ""
    name: Text = ""
    namespace: Text = ""
    type: Text = ""
    selector: Labels = {}  # empty: the endpoints are not derived from pods
    ports: JsonObjects = []
    selected: Strings = []  # names of the pods the selector matches
    ready_endpoints: Count = None  # of those, how many are ready
    pods: LabelledPods = []


class OtherStatusData(EvidenceData):
    """STATUS item about anything else (e.g. the analyst's `Verification` of an earlier attempt)."""

    object_kind: Text = ""
    attempt: Count = None  # of a `Verification`: the attempt it verified
    healthy: MaybeBool = None  # of a `Verification`: whether the workload had recovered


def _status_tag(data: Any) -> str:
    kind = _as_str(data.get("object_kind") if isinstance(data, Mapping) else getattr(data, "object_kind", ""))
    if kind in ("", "Pod"):
        return "pod"
    if kind in WORKLOAD_KINDS:
        return "workload"
    if kind == "Service":
        return "service"
    return "node" if kind == "Node" else "other"


AnyStatusData = PodStatusData | WorkloadStatusData | NodeStatusData | ServiceStatusData | OtherStatusData
StatusData = Annotated[
    Annotated[PodStatusData, Tag("pod")]
    | Annotated[WorkloadStatusData, Tag("workload")]
    | Annotated[NodeStatusData, Tag("node")]
    | Annotated[ServiceStatusData, Tag("service")]
    | Annotated[OtherStatusData, Tag("other")],
    Discriminator(_status_tag),
]
_STATUS: TypeAdapter[AnyStatusData] = TypeAdapter(StatusData)


def read_status(data: Mapping[str, Any]) -> AnyStatusData:
    """A STATUS item's data as the model its `object_kind` names; never raises."""
    return _STATUS.validate_python(data)


class EventData(EvidenceData):
    """EVENT item: one (aggregated) Kubernetes event."""

    reason: Text = ""  # BackOff, Failed, FailedScheduling, Unhealthy, Killing, Evicted, ...
    type: Text = ""  # Normal, Warning
    count: Count = None
    message: Text = ""  # kubelet/controller wording, e.g. "Readiness probe failed: ..."
    involved_kind: Text = ""
    involved_name: Text = ""
    last_seen: Text = ""  # ISO 8601


class LogData(EvidenceData):
    """LOG item: the (redacted, capped) tail of one container's log; the lines are in the item's text."""

    pod: Text = ""
    container: Text = ""
    previous: Flag = False  # the log of the previous (crashed) instance


class PackedLogData(LogData):
    """A packed container log as tools/evidence renders it, before it becomes a LOG item."""

    text: Text = ""
    available: Flag = False
    note: Text = ""  # why the log is unavailable, when it is
    truncated: Flag = False
    lines: Count = None  # lines before folding and capping


class MetricData(EvidenceData):
    """METRIC item: one series summarised, e.g. working set against its limit."""

    name: Text = ""  # container_memory_working_set_bytes, kube_deployment_spec_replicas, ...
    container: Text = ""
    pod: Text = ""
    value: Number = None  # latest value
    max: Number = None  # max over the window
    limit: Number = None  # the limit the value is measured against (same unit), if any
    previous: Number = None  # the value before a step change (e.g. replicas 3 -> 0)
    unit: Text = ""  # bytes, cores, count, ratio
    samples: Numbers = []  # oldest first, evenly spaced


class ManifestData(EvidenceData):
    """MANIFEST item: a related object's cleaned manifest, e.g. a ConfigMap the workload reads."""

    object_kind: Text = ""  # ConfigMap, Secret (keys only, never values), Service, Deployment
    name: Text = ""
    namespace: Text = ""
    keys: MaybeStrings = None  # for ConfigMaps and Secrets; absent: read them from the manifest
    manifest: JsonObject = {}  # cleaned; Secret values are never included


class CommitData(EvidenceData):
    """COMMIT item: a recent commit in the GitOps repository touching the workload's files.

    Producers list COMMIT items newest first; readers take the first matching commit as the suspect.
    """

    sha: Text = ""
    message: Text = ""
    author: Text = ""
    date: Text = ""  # ISO 8601
    diff: Text = ""  # unified diff, capped
    files: Strings = []


class RolloutData(EvidenceData):
    """ROLLOUT item: one revision of the workload (a ReplicaSet's pod template)."""

    revision: Count = None
    template: JsonObject = {}  # the pod template: {"metadata": ..., "spec": {"containers": [...]}}
    change_cause: Text = ""
    current: Flag = False  # the revision the workload runs now
    replicas: Count = None  # pods of this revision right now (its ReplicaSet's status)
    ready_replicas: Count = None  # of which ready: a revision still serving is one known to work


class PastIncidentData(EvidenceData):
    """MEMORY item: a similar incident Paramedic remembers (graph/memory), and how it ended."""

    run_id: Text = ""  # the past run
    target: Text = ""  # the workload it was on, as text
    recorded_at: Text = ""  # ISO 8601
    score: Number = None  # similarity, 0..1
    outcome: Text = ""  # a graph.memory.MemoryOutcome value: healed, failed, rolled_back, ...
    category: Text = ""  # its diagnosis's root cause
    fix_kind: Text = ""  # e.g. "gitops_pr:resources.limits.memory"
    summary: Text = ""  # e.g. "healed by changing the memory limit by pull request"
