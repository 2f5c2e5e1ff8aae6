"""Events about a workload, its ReplicaSets/Jobs and its pods (including pods already replaced), newest first.

Kubernetes aggregates repeats into one Event with a `count` (or a `series`), and a busy controller
can still emit near-duplicates as separate objects: both are folded here by involved object,
type, reason and message, summing the counts and keeping the first and last sighting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import TARGET_KINDS, check_kind, jobs_of, name_of, read_object, replica_sets_of
from tools.result import ToolResult, TraceSink, discard

WORKLOAD_EVENTS_TOOL = "kubernetes.workload_events"
DEFAULT_EVENT_LIMIT = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventRecord(BaseModel):
    """One (folded) event."""

    model_config = ConfigDict(frozen=True)

    type: str  # Normal, Warning
    reason: str
    message: str
    count: int
    involved_kind: str
    involved_name: str
    first_seen: str = ""
    last_seen: str = ""
    source: str = ""  # the reporting component: kubelet, deployment-controller, default-scheduler, ...


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _times(event: Mapping[str, Any]) -> tuple[str, str]:
    series = event.get("series") or {}
    created = (event.get("metadata") or {}).get("creationTimestamp")
    first = event.get("firstTimestamp") or event.get("eventTime") or created or ""
    last = series.get("lastObservedTime") or event.get("lastTimestamp") or event.get("eventTime") or first
    return str(first), str(last)


def _count(event: Mapping[str, Any]) -> int:
    series = event.get("series") or {}
    for value in (series.get("count"), event.get("count")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


def fold_events(events: Iterable[Mapping[str, Any]]) -> list[EventRecord]:
    """Fold raw core/v1 Events into records, newest first (by last sighting)."""
    folded: dict[tuple[str, str, str, str, str], dict[str, Any]] = {}
    for event in events:
        involved = event.get("involvedObject") or event.get("regarding") or {}
        source = event.get("source") or {}
        key = (
            str(involved.get("kind") or ""),
            str(involved.get("name") or ""),
            str(event.get("type") or ""),
            str(event.get("reason") or ""),
            str(event.get("message") or event.get("note") or ""),
        )
        first, last = _times(event)
        entry = folded.get(key)
        if entry is None:
            folded[key] = {
                "count": _count(event),
                "first": first,
                "last": last,
                "source": str(source.get("component") or event.get("reportingComponent") or ""),
            }
            continue
        entry["count"] += _count(event)
        if (_parse_time(first) or _EPOCH) < (_parse_time(entry["first"]) or _EPOCH) or not entry["first"]:
            entry["first"] = first
        if (_parse_time(last) or _EPOCH) > (_parse_time(entry["last"]) or _EPOCH):
            entry["last"] = last
    records = [
        EventRecord(
            involved_kind=kind,
            involved_name=name,
            type=type_,
            reason=reason,
            message=message,
            count=entry["count"],
            first_seen=entry["first"],
            last_seen=entry["last"],
            source=entry["source"],
        )
        for (kind, name, type_, reason, message), entry in folded.items()
    ]
    records.sort(key=lambda r: (_parse_time(r.last_seen) or _EPOCH, r.type == "Warning"), reverse=True)
    return records


def _about_workload(
    workload: Obj, replica_sets: list[Obj], jobs: list[Obj] | None = None
) -> tuple[set[tuple[str, str]], re.Pattern[str]]:
    """The objects whose events concern the workload: exact (kind, name)s, and a pattern for pod names."""
    kind, name = str(workload["kind"]), name_of(workload)
    exact = {(kind, name)}
    exact.update(("ReplicaSet", name_of(rs)) for rs in replica_sets)
    exact.update(("Job", name_of(job)) for job in jobs or [])
    if kind == "Pod":
        return exact, re.compile(r"(?!)")  # a bare Pod: its own events only (the exact match above)
    # Pods are named after their controller: <replicaset>-<suffix>, <statefulset>-<ordinal>,
    # <daemonset|job>-<5 chars>. Matching names (not current pods) keeps the events of pods that
    # were already replaced, which are often the crashed ones.
    if kind == "Deployment":
        owners = (
            "|".join(re.escape(name_of(rs)) for rs in replica_sets) or re.escape(name) + "-[a-z0-9]{1,10}"
        )
        pods = rf"(?:{owners})-[a-z0-9]+"  # the ReplicaSet's hash already makes the prefix specific
    elif kind == "StatefulSet":
        pods = rf"{re.escape(name)}-\d+"
    elif kind == "CronJob":
        # <cronjob>-<scheduled minute>-<5 chars>: also the pods of Jobs the history limit deleted.
        pods = rf"{re.escape(name)}-\d+-[a-z0-9]{{5}}"
    else:
        pods = rf"{re.escape(name)}-[a-z0-9]{{5}}"
    return exact, re.compile(pods + r"\Z")


def read_workload_events(
    kube: KubeClient, namespace: str, kind: str, name: str, limit: int = DEFAULT_EVENT_LIMIT
) -> list[EventRecord]:
    """The folded events of a workload (raises `ToolFailure`); see `workload_events`."""
    check_kind(kind, TARGET_KINDS)
    workload = read_object(kube, kind, namespace, name)
    rss = replica_sets_of(kube, workload) if kind == "Deployment" else []
    jobs = jobs_of(kube, workload) if kind == "CronJob" else []
    exact, pod_names = _about_workload(workload, rss, jobs)
    listed = kube.json(f"list events in {namespace}", kube.core.list_namespaced_event, namespace)
    relevant = []
    for event in listed.get("items") or []:
        involved = event.get("involvedObject") or {}
        ikind, iname = str(involved.get("kind") or ""), str(involved.get("name") or "")
        if (ikind, iname) in exact or (ikind == "Pod" and pod_names.match(iname)):
            relevant.append(event)
    return fold_events(relevant)[:limit]


def workload_events(
    kube: KubeClient,
    namespace: str,
    kind: str,
    name: str,
    *,
    limit: int = DEFAULT_EVENT_LIMIT,
    sink: TraceSink = discard,
) -> ToolResult[list[EventRecord]]:
    """Events for the workload, its ReplicaSets and its pods, folded and newest first (at most `limit`).

    `kind` is a workload kind, CronJob (its Jobs and their pods too) or Pod (its own events).
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    return kube.run(
        WORKLOAD_EVENTS_TOOL,
        {"namespace": namespace, "kind": kind, "name": name, "limit": limit},
        lambda: read_workload_events(kube, namespace, kind, name, limit),
        sink,
        summarize=lambda rs: f"{len(rs)} events, {sum(r.type == 'Warning' for r in rs)} warnings",
    )
