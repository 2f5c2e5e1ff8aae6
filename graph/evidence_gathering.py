"""Gathering a workload's evidence through tools/ into citable items (the analyst's first half).

Item data follows the evidence contract (`tools/evidence/item_data.py`): tools/evidence already
renders status, events and logs with its models, capped; everything read here was redacted where it
left the tools (`tools.boundary`), diffs and commit messages included. This module lifts them into
`EvidenceItem`s with stable ids and adds rollout history and recent Git commits (`gather_evidence`),
and `make_gather` adds Prometheus's metric evidence (graph/metric_evidence). Whatever cannot be read
goes into `Evidence.gaps` with the reason, and gathering carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.domain import Evidence, EvidenceItem, EvidenceKind, WorkloadRef
from graph.metric_evidence import metric_evidence
from graph.service_evidence import SERVICE_KIND, service_items
from tools.evidence.item_data import CommitData, LogData, NodeStatusData, RolloutData
from tools.evidence.render import condition_data, render_workload, workload_data
from tools.gitops.base import GitOpsRepo
from tools.gitops.records import Workload
from tools.kubernetes import (
    KubeClient,
    NodeInfo,
    cluster_nodes,
    live_manifest,
    namespace_deployments,
    rollout_history,
    workload_events,
    workload_logs,
    workload_status,
)
from tools.prometheus import PrometheusClient
from tools.redaction import redact_data
from tools.result import TraceSink, discard

MAX_COMMITS = 5
MAX_DIFF_CHARS = 4_000


@dataclass(frozen=True)
class Sources:
    """Where evidence comes from; Git is optional (no repository -> a gap, not a failure)."""

    kube: KubeClient
    repo: GitOpsRepo | None = None
    sink: TraceSink = discard


Gather = Callable[[WorkloadRef, TraceSink], Evidence]


def make_gather(
    cluster_sources: Callable[[TraceSink], Sources], prometheus: PrometheusClient | None = None
) -> Gather:
    """A gatherer: cluster and Git evidence (`gather_evidence`) plus metrics, with their gaps."""

    def gather(target: WorkloadRef, sink: TraceSink) -> Evidence:
        evidence = gather_evidence(cluster_sources(sink), target)
        items, gaps = metric_evidence(prometheus, target, sink=sink)
        return evidence.model_copy(
            update={"items": [*evidence.items, *items], "gaps": [*evidence.gaps, *gaps]}
        )

    return gather


def gather_evidence(sources: Sources, target: WorkloadRef, *, since: datetime | None = None) -> Evidence:
    """Status, events, logs (current and previous), manifest, rollouts and recent commits of `target`."""
    items: list[EvidenceItem] = []
    gaps: list[str] = []
    ns, kind, name = target.namespace, target.kind, target.name
    sink = sources.sink

    if kind == SERVICE_KIND:
        # A Service followed from its consumers: its selector against the pods, its manifest, its Git history.
        items += service_items(sources.kube, target, sink, gaps)
        if not items:
            return Evidence(target=target, gaps=gaps)
        return _with_manifest_and_commits(sources, target, since, items, gaps)

    status = workload_status(sources.kube, ns, kind, name, sink=sink)
    if not status.ok or status.data is None:
        return Evidence(target=target, gaps=[f"status: {status.error}"])
    events = workload_events(sources.kube, ns, kind, name, sink=sink)
    logs = workload_logs(sources.kube, ns, kind, name, sink=sink)
    if not events.ok:
        gaps.append(f"events: {events.error}")
    if not logs.ok:
        gaps.append(f"logs: {logs.error}")
    rendered = render_workload(status.data, events.data or [], logs.data or [])
    items += _status_items(rendered.data, kind, name)
    items += _event_items(rendered.data)
    items += _log_items(rendered.data)

    items += _neighbour_items(sources, target, gaps)
    if _placement_trouble(rendered.data, kind):
        items += _node_items(sources, gaps)

    if kind == "Deployment":
        history = rollout_history(sources.kube, ns, name, sink=sink)
        if history.ok and history.data is not None:
            for rev in history.data.revisions:
                items.append(
                    EvidenceItem(
                        id=f"rollout:{rev.revision}",
                        kind=EvidenceKind.ROLLOUT,
                        source=f"ReplicaSet {ns}/{rev.replica_set}",
                        text=f"revision {rev.revision}{' (current)' if rev.current else ''}: "
                        f"images {', '.join(rev.images) or '-'}; {rev.change_cause or 'no change-cause'}; "
                        f"pods {rev.ready_replicas}/{rev.replicas} ready",
                        data=RolloutData(
                            revision=rev.revision,
                            template=rev.template,
                            change_cause=rev.change_cause,
                            current=rev.current,
                            replicas=rev.replicas,
                            ready_replicas=rev.ready_replicas,
                        ).dump(),
                    )
                )
        else:
            gaps.append(f"rollout history: {history.error}")
    return _with_manifest_and_commits(sources, target, since, items, gaps)


def _with_manifest_and_commits(
    sources: Sources, target: WorkloadRef, since: datetime | None, items: list[EvidenceItem], gaps: list[str]
) -> Evidence:
    """`items` plus the target's live manifest and the recent commits touching its manifest in Git."""
    manifest_body: dict[str, Any] | None = None
    manifest = live_manifest(sources.kube, target.namespace, target.kind, target.name, sink=sources.sink)
    if manifest.ok and manifest.data is not None:
        manifest_body = manifest.data.body
    else:
        gaps.append(f"manifest: {manifest.error}")
    if sources.repo is None:
        gaps.append("git: no GitOps repository configured")
    else:
        items = [*items, *_commit_items(sources.repo, target, since, gaps)]
    return Evidence(target=target, items=items, manifest=manifest_body, gaps=gaps)


def _status_items(data: dict[str, Any], kind: str, name: str) -> list[EvidenceItem]:
    workload = dict(data.get("workload") or {})
    workload.setdefault("object_kind", kind)
    out = [_status_item(f"{kind.lower()}/{name}", f"{kind} {name}", workload)]
    for pod in data.get("pods") or []:
        pod = {**pod, "object_kind": "Pod"}
        out.append(_status_item(f"pod/{pod.get('pod', '?')}", f"Pod {pod.get('pod', '?')}", pod))
    return out


def _status_item(ref: str, source: str, data: dict[str, Any]) -> EvidenceItem:
    """A STATUS item with id `status:<ref>`, its text the one-line summary of `data`."""
    return EvidenceItem(
        id=f"status:{ref}", kind=EvidenceKind.STATUS, source=source, text=_summary(data), data=data
    )


def _neighbour_items(sources: Sources, target: WorkloadRef, gaps: list[str]) -> list[EvidenceItem]:
    # The other Deployments' health decides between "my dependency is down" and "my logs are noisy".
    others = namespace_deployments(sources.kube, target.namespace, sink=sources.sink)
    if not others.ok or others.data is None:
        gaps.append(f"namespace deployments: {others.error}")
        return []
    out = []
    for status in others.data:
        if status.name == target.name:
            continue
        source = f"Deployment {status.namespace}/{status.name}"
        out.append(_status_item(f"deployment/{status.name}", source, workload_data(status).dump()))
    return out


# What says a pod could not be placed or was pushed off its node: then the nodes are evidence too.
_PLACEMENT_REASONS = frozenset({"FailedScheduling", "Evicted", "Preempted", "NodeAffinity"})


def _placement_trouble(data: dict[str, Any], kind: str) -> bool:
    # A DaemonSet that wants no pod at all: which nodes its pods may go to is the only question left.
    if kind == "DaemonSet" and (data.get("workload") or {}).get("replicas") == 0:
        return True
    pods = data.get("pods") or []
    if any(p.get("phase") == "Pending" or p.get("reason") in _PLACEMENT_REASONS for p in pods):
        return True
    return any(e.get("reason") in _PLACEMENT_REASONS for e in data.get("events") or [])


def _node_items(sources: Sources, gaps: list[str]) -> list[EvidenceItem]:
    nodes = cluster_nodes(sources.kube, sink=sources.sink)
    if not nodes.ok or nodes.data is None:
        gaps.append(f"nodes: {nodes.error}")
        return []
    return [_node_item(node) for node in nodes.data]


def _node_item(node: NodeInfo) -> EvidenceItem:
    data = NodeStatusData(
        object_kind="Node",
        node=node.name,
        allocatable=node.allocatable,
        capacity=node.capacity,
        conditions=[condition_data(c) for c in node.conditions],
        taints=node.taints,
        labels=redact_data(node.labels),
    ).dump()
    if node.unschedulable:
        data["unschedulable"] = True
    labels = ", ".join(f"{k}={v}" for k, v in sorted(data.get("labels", {}).items()))
    pressures = [c.type for c in node.conditions if c.type.endswith("Pressure") and c.status == "True"]
    return EvidenceItem(
        id=f"status:node/{node.name}",
        kind=EvidenceKind.STATUS,
        source=f"Node {node.name}",
        text=f"node {node.name}: labels {labels or '-'}; allocatable "
        + ", ".join(f"{k}={v}" for k, v in sorted(node.allocatable.items()) if k in ("cpu", "memory"))
        + (f"; pressure {', '.join(pressures)}" if pressures else "")
        + ("; cordoned" if node.unschedulable else ""),
        data=data,
    )


def _event_items(data: dict[str, Any]) -> list[EvidenceItem]:
    return [
        EvidenceItem(
            id=f"event:{i}",
            kind=EvidenceKind.EVENT,
            source=f"{ev.get('involved_kind', '')} {ev.get('involved_name', '')}".strip(),
            text=f"{ev.get('type', '')} {ev.get('reason', '')} (x{ev.get('count', 1)}): "
            f"{ev.get('message', '')}",
            data=ev,
        )
        for i, ev in enumerate(data.get("events") or [])
    ]


def _log_items(data: dict[str, Any]) -> list[EvidenceItem]:
    out = []
    for log in data.get("logs") or []:
        if not log.get("available") or not log.get("text"):
            continue
        suffix = ":previous" if log.get("previous") else ""
        out.append(
            EvidenceItem(
                id=f"log:{log['pod']}:{log['container']}{suffix}",
                kind=EvidenceKind.LOG,
                source=f"Pod {log['pod']} container {log['container']}" + (" (previous)" if suffix else ""),
                text=log["text"],
                data=LogData(
                    pod=log["pod"], container=log["container"], previous=bool(log.get("previous"))
                ).dump(),
            )
        )
    return out


def _commit_items(
    repo: GitOpsRepo, target: WorkloadRef, since: datetime | None, gaps: list[str]
) -> list[EvidenceItem]:
    workload = Workload(target.kind, target.name, target.namespace)
    commits = repo.recent_commits(workload=workload, since=since, limit=MAX_COMMITS)
    if not commits.ok or commits.data is None:
        gaps.append(f"git commits: {commits.error}")
        return []
    out = []
    for info in commits.data:  # newest first, as the conventions ask
        diff = repo.commit_diff(info.sha)
        diff_text = diff.data.text[:MAX_DIFF_CHARS] if diff.ok and diff.data is not None else ""
        out.append(
            EvidenceItem(
                id=f"commit:{info.sha[:12]}",
                kind=EvidenceKind.COMMIT,
                source=f"git {info.sha[:12]}",
                text=f"{info.date.isoformat()} {info.author}: {info.title}",
                data=CommitData(
                    sha=info.sha,
                    message=info.message,
                    author=info.author,
                    date=info.date.isoformat(),
                    diff=diff_text,
                    files=list(info.files),
                ).dump(),
            )
        )
    return out


def _summary(data: dict[str, Any]) -> str:
    parts = [
        f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float | bool) and k != "object_kind"
    ]
    for c in data.get("containers") or []:
        parts.append(
            "container "
            + ", ".join(f"{k}={v}" for k, v in c.items() if isinstance(v, str | int | float | bool))
        )
    return "; ".join(parts)
