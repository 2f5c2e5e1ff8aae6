"""A workload's state as compact text (for a prompt) and JSON (for the evidence store).

The JSON is built from the evidence contract's models (`tools/evidence/item_data.py`: PodStatusData,
WorkloadStatusData, ContainerStatusData, EventData, PackedLogData) so the analyst can lift items out
unchanged. What it renders is already redacted: statuses, events and logs come from the Kubernetes
tools, whose answers passed the redaction boundary (`tools.boundary`); nothing here redacts again.
In the text, cluster-supplied strings are kept on one line and log lines are fenced with `| ` so no
message can pass for part of the structure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.evidence.item_data import (
    ConditionData,
    ContainerStatusData,
    EventData,
    PackedLogData,
    PodStatusData,
    WorkloadStatusData,
)
from tools.evidence.log_packing import DEFAULT_MAX_CHARS, pack_log

if TYPE_CHECKING:  # annotations only: the reasoners import the evidence contract without the client
    from tools.kubernetes.pod_logs import PodLogs
    from tools.kubernetes.status import Condition, ContainerStatus, PodStatus, WorkloadStatus
    from tools.kubernetes.workload_events import EventRecord

DEFAULT_MAX_PODS = 10
DEFAULT_MAX_EVENTS = 15
_MAX_FIELD = 300  # characters of one message in the text rendering


def one_line(text: str, limit: int = _MAX_FIELD) -> str:
    """Cluster-supplied (already redacted) text on a single line, shortened."""
    flat = " ⏎ ".join(part.strip() for part in text.splitlines() if part.strip())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _trouble(pod: PodStatus) -> tuple[int, int, str]:
    return (int(pod.ready), -pod.restarts, pod.name)


def condition_data(c: Condition) -> ConditionData:
    """A condition as the evidence contract shows it."""
    return ConditionData(type=c.type, status=c.status, reason=c.reason or None, message=c.message or None)


def container_data(c: ContainerStatus) -> ContainerStatusData:
    """A container's status as the evidence contract shows it."""
    term = c.terminated or c.last_termination  # the current state first, as the contract says
    last = c.last_termination
    return ContainerStatusData(
        name=c.name,
        image=c.image,
        ready=c.ready,
        restart_count=c.restart_count,
        state=c.state if c.state != "unknown" else "waiting",
        init=c.init or None,
        waiting_reason=c.reason if c.state == "waiting" else None,
        waiting_message=c.message or None if c.state == "waiting" else None,
        terminated_reason=c.terminated.reason if c.terminated else None,
        last_terminated_reason=last.reason if last else None,
        last_terminated_message=last.message or None if last else None,
        exit_code=term.exit_code if term else None,
    )


def pod_data(pod: PodStatus) -> PodStatusData:
    """A pod as the evidence contract shows it."""
    return PodStatusData(
        object_kind="Pod",
        pod=pod.name,
        node=pod.node,
        phase=pod.phase,
        ready=pod.ready,
        restarts=pod.restarts,
        conditions=[condition_data(c) for c in pod.conditions],
        containers=[container_data(c) for c in pod.containers],
        reason=pod.reason or None,
        message=pod.message or None,
    )


def workload_data(status: WorkloadStatus) -> WorkloadStatusData:
    """The workload as the evidence contract shows it (counts the API does not show are absent)."""
    return WorkloadStatusData(
        object_kind=status.kind,
        name=status.name,
        namespace=status.namespace,
        replicas=status.desired,
        ready_replicas=status.ready,
        available_replicas=status.available,
        updated_replicas=status.updated,
        unavailable_replicas=status.unavailable,
        conditions=[condition_data(c) for c in status.conditions],
        revision=status.revision,
        paused=status.paused or None,
    )


def event_data(e: EventRecord) -> EventData:
    """An event as the evidence contract shows it."""
    return EventData(
        reason=e.reason,
        type=e.type,
        count=e.count,
        message=e.message,
        involved_kind=e.involved_kind,
        involved_name=e.involved_name,
        last_seen=e.last_seen,
    )


def _container_line(c: ContainerStatus) -> str:
    parts = [
        f"{'init ' if c.init else ''}container {c.name}",
        f"image={c.image}",
        f"ready={str(c.ready).lower()}",
    ]
    state: str = c.state
    if c.reason:
        state += f" {c.reason}"
    if c.terminated and c.terminated.exit_code is not None:
        state += f" exit={c.terminated.exit_code}"
    parts.append(f"state={state}")
    parts.append(f"restarts={c.restart_count}")
    if c.last_termination:
        last = c.last_termination
        parts.append(
            f"last=terminated {last.reason or '?'} exit={last.exit_code} at {last.finished_at or '?'}"
        )
    line = "    " + "  ".join(parts)
    if c.message:
        line += f"\n      message: {one_line(c.message)}"
    if c.last_termination and c.last_termination.message:
        line += f"\n      last message: {one_line(c.last_termination.message)}"
    return line


def _conditions_line(conditions: Sequence[Condition]) -> str:
    return "; ".join(f"{c.type}={c.status}" + (f" ({c.reason})" if c.reason else "") for c in conditions)


def _pod_lines(pod: PodStatus) -> list[str]:
    head = (
        f"  pod {pod.name}  phase={pod.phase or '?'}  ready={str(pod.ready).lower()}  node={pod.node or '-'}"
    )
    if pod.reason:
        head += f"  reason={pod.reason}"
    if pod.deleting:
        head += "  (terminating)"
    lines = [head]
    if pod.message:
        lines.append(f"    message: {one_line(pod.message)}")
    failing = [c for c in pod.conditions if c.status != "True"]
    if failing:
        lines.append("    conditions: " + _conditions_line(failing))
        lines.extend(f"      {c.type}: {one_line(c.message)}" for c in failing if c.message)
    lines.extend(_container_line(c) for c in pod.containers)
    return lines


def render_status_text(status: WorkloadStatus, *, max_pods: int = DEFAULT_MAX_PODS) -> str:
    """The workload and its most troubled pods as compact text."""
    head = (
        f"{status.kind} {status.namespace}/{status.name}: desired={status.desired} ready={status.ready} "
        f"available={status.available} updated={status.updated} unavailable={status.unavailable}"
    )
    if status.revision is not None:
        head += f" revision={status.revision}"
    if status.paused:
        head += " (paused)"
    lines = [head]
    if status.conditions:
        lines.append("  conditions: " + _conditions_line(status.conditions))
        lines.extend(
            f"    {c.type}: {one_line(c.message)}"
            for c in status.conditions
            if c.message and c.status != "True"
        )
    pods = sorted(status.pods, key=_trouble)
    for pod in pods[:max_pods]:
        lines.extend(_pod_lines(pod))
    if len(pods) > max_pods:
        rest = pods[max_pods:]
        ready = sum(p.ready for p in rest)
        lines.append(f"  … {len(rest)} more pods ({ready} ready, {sum(p.restarts for p in rest)} restarts)")
    if not pods:
        lines.append("  (no pods)")
    return "\n".join(lines)


def render_events_text(events: Sequence[EventRecord], *, max_events: int = DEFAULT_MAX_EVENTS) -> str:
    """Events newest first, one line each."""
    if not events:
        return "events: none"
    lines = ["events (newest first):"]
    for e in events[:max_events]:
        count = f" x{e.count}" if e.count > 1 else ""
        lines.append(
            f"  {e.last_seen or '?'} {e.type} {e.reason}{count} {e.involved_kind.lower()}/{e.involved_name}: "
            f"{one_line(e.message)}"
        )
    if len(events) > max_events:
        lines.append(f"  … {len(events) - max_events} older events")
    return "\n".join(lines)


def pack_pod_logs(
    logs: Iterable[PodLogs], *, max_chars_per_container: int = DEFAULT_MAX_CHARS
) -> list[PackedLogData]:
    """Each container instance's (redacted) log sanitised, folded and capped, as the evidence contract
    shows it."""
    packed = []
    for pod_logs in logs:
        for log in pod_logs.logs:
            p = pack_log(log.text, max_chars=max_chars_per_container)
            packed.append(
                PackedLogData(
                    pod=log.pod,
                    container=log.container,
                    previous=log.previous,
                    text=p.text,
                    available=log.available,
                    note=one_line(log.note) if log.note else "",
                    truncated=p.truncated,
                    lines=p.lines_in,
                )
            )
    return packed


def render_logs_text(logs: Sequence[PackedLogData]) -> str:
    """Packed logs as text, each line fenced with `| ` (log content is data, never structure)."""
    if not logs:
        return "logs: none"
    lines = []
    for log in logs:
        which = "previous instance" if log.previous else "current"
        header = f"log {log.pod}/{log.container} ({which})"
        if not log.available:
            lines.append(f"{header}: unavailable: {log.note}")
            continue
        if not log.text:
            lines.append(f"{header}: empty")
            continue
        lines.append(f"{header}:")
        lines.extend(f"  | {line}" for line in log.text.splitlines())
    return "\n".join(lines)


@dataclass(frozen=True)
class WorkloadEvidence:
    """The packed evidence about a workload: compact text for a prompt, JSON for storage."""

    text: str
    data: dict[str, Any]


def render_workload(
    status: WorkloadStatus,
    events: Sequence[EventRecord] = (),
    logs: Iterable[PodLogs] = (),
    *,
    max_pods: int = DEFAULT_MAX_PODS,
    max_events: int = DEFAULT_MAX_EVENTS,
    max_log_chars: int = DEFAULT_MAX_CHARS,
) -> WorkloadEvidence:
    """Status, events and log tails of a workload (as the tools answered them: redacted) as text and JSON."""
    packed = pack_pod_logs(logs, max_chars_per_container=max_log_chars)
    text = "\n".join(
        [render_status_text(status, max_pods=max_pods), render_events_text(events, max_events=max_events)]
        + ([render_logs_text(packed)] if packed else [])
    )
    pods = sorted(status.pods, key=_trouble)
    data = {
        "workload": workload_data(status).dump(),
        "pods": [pod_data(p).dump() for p in pods[:max_pods]],
        "pods_omitted": max(len(pods) - max_pods, 0),
        "events": [event_data(e).dump() for e in events[:max_events]],
        "events_omitted": max(len(events) - max_events, 0),
        "logs": [p.dump() for p in packed],
    }
    return WorkloadEvidence(text=text, data=data)
