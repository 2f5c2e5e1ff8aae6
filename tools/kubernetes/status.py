"""A workload's status as typed models: replicas, conditions, and per pod the container states,
restart counts and last termination reasons."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import (
    TARGET_KINDS,
    check_kind,
    controller_of,
    jobs_of,
    name_of,
    pods_of,
    read_object,
    replica_sets_of,
    revision_of,
    uid_of,
)
from tools.result import ToolResult, TraceSink, discard

WORKLOAD_STATUS_TOOL = "kubernetes.workload_status"
POD_STATUS_TOOL = "kubernetes.pod_status"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Condition(_Frozen):
    """A condition as the API shows it."""

    type: str
    status: str  # "True", "False", "Unknown"
    reason: str = ""
    message: str = ""
    last_transition: str = ""


class Termination(_Frozen):
    """How a container instance ended."""

    reason: str = ""  # OOMKilled, Error, Completed, ...
    exit_code: int | None = None
    signal: int | None = None
    message: str = ""
    started_at: str = ""
    finished_at: str = ""


class ContainerStatus(_Frozen):
    """One container of a pod: its current state and how its previous instance ended."""

    name: str
    image: str = ""
    init: bool = False
    ready: bool = False
    started: bool | None = None
    restart_count: int = 0
    state: Literal["waiting", "running", "terminated", "unknown"] = "unknown"
    reason: str = ""  # waiting reason (CrashLoopBackOff, ImagePullBackOff, ...) or terminated reason
    message: str = ""
    running_since: str = ""
    terminated: Termination | None = None  # when the current state is terminated
    last_termination: Termination | None = None  # lastState.terminated: the previous instance


class PodStatus(_Frozen):
    """One pod's status."""

    name: str
    namespace: str
    uid: str = ""
    node: str = ""
    phase: str = ""
    reason: str = ""  # pod-level, e.g. Evicted
    message: str = ""
    ready: bool = False
    owner: str = ""  # Kind/name of the controller
    revision: str = ""  # pod-template-hash (Deployment) or controller-revision-hash (StatefulSet)
    created: str = ""
    deleting: bool = False
    conditions: list[Condition] = []
    containers: list[ContainerStatus] = []

    @property
    def restarts(self) -> int:
        """Restarts across all containers."""
        return sum(c.restart_count for c in self.containers)


class WorkloadStatus(_Frozen):
    """A workload's replicas and conditions plus the status of each pod it controls."""

    kind: str
    namespace: str
    name: str
    uid: str = ""
    generation: int | None = None
    observed_generation: int | None = None
    desired: int | None = None  # spec.replicas (DaemonSet: desiredNumberScheduled, Job: completions)
    current: int | None = (
        None  # pods the controller runs now (status.replicas / currentNumberScheduled / active)
    )
    ready: int | None = None
    available: int | None = None
    updated: int | None = None
    unavailable: int | None = None
    revision: int | None = None  # Deployment: deployment.kubernetes.io/revision
    paused: bool = False
    conditions: list[Condition] = []
    pods: list[PodStatus] = []

    @property
    def restarts(self) -> int:
        """Restarts across all pods."""
        return sum(p.restarts for p in self.pods)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _conditions(items: Any) -> list[Condition]:
    return [
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition=str(c.get("lastTransitionTime") or c.get("lastUpdateTime") or ""),
        )
        for c in items or []
        if isinstance(c, Mapping)
    ]


def _termination(term: Any) -> Termination | None:
    if not isinstance(term, Mapping):
        return None
    return Termination(
        reason=str(term.get("reason") or ""),
        exit_code=_int(term.get("exitCode")),
        signal=_int(term.get("signal")),
        message=str(term.get("message") or ""),
        started_at=str(term.get("startedAt") or ""),
        finished_at=str(term.get("finishedAt") or ""),
    )


def container_status(
    spec: Mapping[str, Any], status: Mapping[str, Any] | None, init: bool = False
) -> ContainerStatus:
    """One container from its spec and (possibly missing) status entry."""
    status = status or {}
    state = status.get("state") or {}
    kind: Literal["waiting", "running", "terminated", "unknown"] = "unknown"
    reason = message = running_since = ""
    terminated = None
    if "waiting" in state:
        kind, reason, message = (
            "waiting",
            state["waiting"].get("reason") or "",
            state["waiting"].get("message") or "",
        )
    elif "running" in state:
        kind, running_since = "running", (state["running"] or {}).get("startedAt") or ""
    elif "terminated" in state:
        terminated = _termination(state["terminated"])
        kind, reason = "terminated", terminated.reason if terminated else ""
        message = terminated.message if terminated else ""
    return ContainerStatus(
        name=str(spec.get("name") or status.get("name") or ""),
        image=str(status.get("image") or spec.get("image") or ""),
        init=init,
        ready=bool(status.get("ready")),
        started=status.get("started") if isinstance(status.get("started"), bool) else None,
        restart_count=_int(status.get("restartCount")) or 0,
        state=kind,
        reason=str(reason),
        message=str(message),
        running_since=str(running_since),
        terminated=terminated,
        last_termination=_termination((status.get("lastState") or {}).get("terminated")),
    )


def pod_status_of(pod: Obj) -> PodStatus:
    """A pod object as a `PodStatus`."""
    meta, spec, status = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    labels = meta.get("labels") or {}
    by_name = {s.get("name"): s for s in status.get("containerStatuses") or []}
    init_by_name = {s.get("name"): s for s in status.get("initContainerStatuses") or []}
    containers = [
        container_status(c, init_by_name.get(c.get("name")), init=True)
        for c in spec.get("initContainers") or []
    ]
    containers += [container_status(c, by_name.get(c.get("name"))) for c in spec.get("containers") or []]
    conditions = _conditions(status.get("conditions"))
    owner = controller_of(pod)
    return PodStatus(
        name=name_of(pod),
        namespace=str(meta.get("namespace") or ""),
        uid=uid_of(pod),
        node=str(spec.get("nodeName") or ""),
        phase=str(status.get("phase") or ""),
        reason=str(status.get("reason") or ""),
        message=str(status.get("message") or ""),
        ready=any(c.type == "Ready" and c.status == "True" for c in conditions),
        owner=f"{owner.get('kind')}/{owner.get('name')}" if owner else "",
        revision=str(labels.get("pod-template-hash") or labels.get("controller-revision-hash") or ""),
        created=str(meta.get("creationTimestamp") or ""),
        deleting=bool(meta.get("deletionTimestamp")),
        conditions=conditions,
        containers=containers,
    )


def _replica_counts(kind: str, spec: Mapping[str, Any], status: Mapping[str, Any]) -> dict[str, int | None]:
    if kind == "DaemonSet":
        return {
            "desired": _int(status.get("desiredNumberScheduled")),
            "current": _int(status.get("currentNumberScheduled")),
            "ready": _int(status.get("numberReady")),
            "available": _int(status.get("numberAvailable")),
            "updated": _int(status.get("updatedNumberScheduled")),
            "unavailable": _int(status.get("numberUnavailable")),
        }
    if kind == "Pod":  # a bare Pod is its own single replica
        ready = int(
            any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
            )
        )
        return {
            "desired": 1,
            "current": 1,
            "ready": ready,
            "available": ready,
            "updated": None,
            "unavailable": 1 - ready,
        }
    if kind == "CronJob":  # its replicas are the Jobs running now
        active = status.get("active")
        running = len(active) if isinstance(active, list) else 0
        return {
            "desired": None,
            "current": running,
            "ready": None,
            "available": None,
            "updated": None,
            "unavailable": None,
        }
    if kind == "Job":
        return {
            "desired": _int(spec.get("completions")),
            "current": _int(status.get("active")),
            "ready": _int(status.get("ready")),
            "available": _int(status.get("succeeded")),
            "updated": None,
            "unavailable": _int(status.get("failed")),
        }
    desired = _int(spec.get("replicas"))
    available = _int(status.get("availableReplicas"))
    unavailable = _int(status.get("unavailableReplicas"))
    if unavailable is None and kind == "StatefulSet" and desired is not None:
        unavailable = max(desired - (available or 0), 0)
    return {
        "desired": 1 if desired is None else desired,  # the API's default
        "current": _int(status.get("replicas")) or 0,
        "ready": _int(status.get("readyReplicas")) or 0,
        "available": available or 0,
        "updated": _int(status.get("updatedReplicas")) or 0,
        "unavailable": unavailable or 0,
    }


def workload_status_of(workload: Obj, pods: list[Obj]) -> WorkloadStatus:
    """A workload object and its pods as a `WorkloadStatus`."""
    meta, spec, status = (
        workload.get("metadata") or {},
        workload.get("spec") or {},
        workload.get("status") or {},
    )
    kind = str(workload.get("kind") or "")
    return WorkloadStatus(
        kind=kind,
        namespace=str(meta.get("namespace") or ""),
        name=name_of(workload),
        uid=uid_of(workload),
        generation=_int(meta.get("generation")),
        observed_generation=_int(status.get("observedGeneration")),
        revision=revision_of(workload) if kind == "Deployment" else None,
        paused=bool(spec.get("paused") or spec.get("suspend")),
        conditions=_conditions(status.get("conditions")),
        pods=[pod_status_of(p) for p in pods],
        **_replica_counts(kind, spec, status),
    )


def read_workload_status(kube: KubeClient, namespace: str, kind: str, name: str) -> WorkloadStatus:
    """The status of a workload and its pods (raises `ToolFailure`); see `workload_status`."""
    check_kind(kind, TARGET_KINDS)
    workload = read_object(kube, kind, namespace, name)
    if kind == "Pod":
        return workload_status_of(workload, [workload])
    if kind == "CronJob":
        return workload_status_of(
            workload, [p for job in jobs_of(kube, workload) for p in pods_of(kube, job)]
        )
    rss = replica_sets_of(kube, workload) if kind == "Deployment" else None
    return workload_status_of(workload, pods_of(kube, workload, rss))


def _summary(s: WorkloadStatus) -> str:
    return (
        f"{s.kind} {s.namespace}/{s.name}: {s.ready}/{s.desired} ready, {len(s.pods)} pods, "
        f"{s.restarts} restarts"
    )


def workload_status(
    kube: KubeClient, namespace: str, kind: str, name: str, *, sink: TraceSink = discard
) -> ToolResult[WorkloadStatus]:
    """Replicas, conditions, and each pod's container states, restart counts and last terminations.

    `kind` is Deployment, StatefulSet, DaemonSet, Job, CronJob (the pods of its Jobs) or Pod (itself).
    """
    return kube.run(
        WORKLOAD_STATUS_TOOL,
        {"namespace": namespace, "kind": kind, "name": name},
        lambda: read_workload_status(kube, namespace, kind, name),
        sink,
        summarize=_summary,
    )


def pod_status(
    kube: KubeClient, namespace: str, pod: str, *, sink: TraceSink = discard
) -> ToolResult[PodStatus]:
    """One pod's phase, conditions and container states."""
    return kube.run(
        POD_STATUS_TOOL,
        {"namespace": namespace, "pod": pod},
        lambda: pod_status_of(read_object(kube, "Pod", namespace, pod)),
        sink,
        summarize=lambda p: f"pod {p.namespace}/{p.name}: {p.phase}, ready={p.ready}, {p.restarts} restarts",
    )


NAMESPACE_DEPLOYMENTS_TOOL = "kubernetes.namespace_deployments"


def read_namespace_deployments(kube: KubeClient, namespace: str) -> list[WorkloadStatus]:
    """Every Deployment of a namespace, replica counts and conditions only (raises `ToolFailure`)."""
    listing = kube.json(f"deployments in {namespace}", kube.apps.list_namespaced_deployment, namespace)
    out = []
    for item in listing.get("items") or []:
        item.setdefault("kind", "Deployment")
        out.append(workload_status_of(item, []))
    return out


def namespace_deployments(
    kube: KubeClient, namespace: str, *, sink: TraceSink = discard
) -> ToolResult[list[WorkloadStatus]]:
    """The Deployments of a namespace without their pods: who else is healthy (dependencies, neighbours)."""
    return kube.run(
        NAMESPACE_DEPLOYMENTS_TOOL,
        {"namespace": namespace},
        lambda: read_namespace_deployments(kube, namespace),
        sink,
        summarize=lambda items: (
            f"{len(items)} deployments, "
            f"{sum(1 for s in items if (s.ready or 0) < (s.desired or 0))} not fully ready"
        ),
    )
