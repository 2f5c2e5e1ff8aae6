"""Container logs of a pod: for each container the current log and, after a restart, the previous one.

Log text is data from the workload and may be hostile: it is returned verbatim (decoded as
UTF-8 with replacement) and never interpreted here. Redaction, folding and caps for a model
happen in `tools.evidence`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import TARGET_KINDS, check_kind, jobs_of, name_of, pods_of, read_object
from tools.kubernetes.status import pod_status_of
from tools.result import ToolFailure, ToolResult, TraceSink, discard

POD_LOGS_TOOL = "kubernetes.pod_logs"
DEFAULT_TAIL_LINES = 200
DEFAULT_LIMIT_BYTES = 256 * 1024


class ContainerLog(BaseModel):
    """The tail of one container instance's log, or why there is none."""

    model_config = ConfigDict(frozen=True)

    pod: str
    container: str
    previous: bool = False
    text: str = ""
    available: bool = True
    note: str = ""  # why the log is unavailable, in the API server's words

    @property
    def lines(self) -> list[str]:
        """The log as lines (no trailing empty line)."""
        return self.text.splitlines()


class PodLogs(BaseModel):
    """Every container's logs of one pod."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    pod: str
    logs: list[ContainerLog]

    def get(self, container: str, previous: bool = False) -> ContainerLog | None:
        """The log of one container instance, if it was fetched."""
        return next((lg for lg in self.logs if lg.container == container and lg.previous == previous), None)


def _read_one(
    kube: KubeClient,
    namespace: str,
    pod: str,
    container: str,
    previous: bool,
    tail_lines: int,
    limit_bytes: int,
    timestamps: bool,
) -> ContainerLog:
    what = f"logs of {namespace}/{pod}/{container}" + (" (previous)" if previous else "")
    try:
        text = kube.text(
            what,
            kube.core.read_namespaced_pod_log,
            pod,
            namespace,
            container=container,
            previous=previous,
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
            timestamps=timestamps,
        )
    except ToolFailure as exc:
        if exc.transient:
            raise
        # 400 "previous terminated container ... not found", "container ... is waiting to start": the
        # absence of a log is itself evidence, so it is reported per container, not as a failed call.
        return ContainerLog(pod=pod, container=container, previous=previous, available=False, note=str(exc))
    return ContainerLog(pod=pod, container=container, previous=previous, text=text)


def read_pod_logs(
    kube: KubeClient,
    namespace: str,
    pod: str,
    *,
    tail_lines: int = DEFAULT_TAIL_LINES,
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    previous: bool | None = None,
    timestamps: bool = False,
    pod_object: Obj | None = None,
) -> PodLogs:
    """Logs of every container of a pod (raises `ToolFailure`); see `pod_logs`."""
    obj = pod_object if pod_object is not None else read_object(kube, "Pod", namespace, pod)
    status = pod_status_of(obj)
    logs = []
    for container in status.containers:
        logs.append(
            _read_one(kube, namespace, pod, container.name, False, tail_lines, limit_bytes, timestamps)
        )
        restarted = container.restart_count > 0 or container.last_termination is not None
        if previous or (previous is None and restarted):
            logs.append(
                _read_one(kube, namespace, pod, container.name, True, tail_lines, limit_bytes, timestamps)
            )
    return PodLogs(namespace=namespace, pod=pod, logs=logs)


def pod_logs(
    kube: KubeClient,
    namespace: str,
    pod: str,
    *,
    tail_lines: int = DEFAULT_TAIL_LINES,
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    previous: bool | None = None,
    timestamps: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[PodLogs]:
    """The last `tail_lines` lines (at most `limit_bytes`) of each container's log, init containers too.

    `previous=None` also fetches the previous instance's log of containers that have restarted;
    True fetches it for every container, False never. A container without a log (waiting to
    start, no previous instance) is listed with `available=False` and the server's reason.
    """
    if tail_lines < 1 or limit_bytes < 1:
        raise ValueError("tail_lines and limit_bytes must be positive")
    return kube.run(
        POD_LOGS_TOOL,
        {"namespace": namespace, "pod": pod, "tail_lines": tail_lines, "previous": previous},
        lambda: read_pod_logs(
            kube,
            namespace,
            pod,
            tail_lines=tail_lines,
            limit_bytes=limit_bytes,
            previous=previous,
            timestamps=timestamps,
        ),
        sink,
        summarize=lambda p: (
            f"{len(p.logs)} logs, {sum(len(lg.lines) for lg in p.logs)} lines, "
            f"{sum(not lg.available for lg in p.logs)} unavailable"
        ),
    )


WORKLOAD_LOGS_TOOL = "kubernetes.workload_logs"
DEFAULT_MAX_PODS = 3


def _trouble(pod: Obj) -> tuple[int, int, str]:
    """Sort key: not-ready pods first, then the most restarted, then by name for determinism."""
    status = pod_status_of(pod)
    return (int(status.ready), -status.restarts, status.name)


def read_workload_logs(
    kube: KubeClient,
    namespace: str,
    kind: str,
    name: str,
    *,
    max_pods: int = DEFAULT_MAX_PODS,
    tail_lines: int = DEFAULT_TAIL_LINES,
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
) -> list[PodLogs]:
    """Logs of the workload's most troubled pods (raises `ToolFailure`); see `workload_logs`."""
    check_kind(kind, TARGET_KINDS)
    workload = read_object(kube, kind, namespace, name)
    if kind == "Pod":
        candidates = [workload]
    elif kind == "CronJob":
        candidates = [p for job in jobs_of(kube, workload) for p in pods_of(kube, job)]
    else:
        candidates = pods_of(kube, workload)
    pods = sorted(candidates, key=_trouble)[:max_pods]
    return [
        read_pod_logs(
            kube, namespace, name_of(p), tail_lines=tail_lines, limit_bytes=limit_bytes, pod_object=p
        )
        for p in pods
    ]


def workload_logs(
    kube: KubeClient,
    namespace: str,
    kind: str,
    name: str,
    *,
    max_pods: int = DEFAULT_MAX_PODS,
    tail_lines: int = DEFAULT_TAIL_LINES,
    limit_bytes: int = DEFAULT_LIMIT_BYTES,
    sink: TraceSink = discard,
) -> ToolResult[list[PodLogs]]:
    """`pod_logs` for up to `max_pods` of a workload's pods, not-ready and most-restarted first.

    `kind` is a workload kind, CronJob (the pods of its Jobs) or Pod (itself).
    """
    if max_pods < 1 or tail_lines < 1 or limit_bytes < 1:
        raise ValueError("max_pods, tail_lines and limit_bytes must be positive")
    return kube.run(
        WORKLOAD_LOGS_TOOL,
        {"namespace": namespace, "kind": kind, "name": name, "max_pods": max_pods, "tail_lines": tail_lines},
        lambda: read_workload_logs(
            kube, namespace, kind, name, max_pods=max_pods, tail_lines=tail_lines, limit_bytes=limit_bytes
        ),
        sink,
        summarize=lambda pods: f"logs of {len(pods)} pods, {sum(len(p.logs) for p in pods)} container logs",
    )
