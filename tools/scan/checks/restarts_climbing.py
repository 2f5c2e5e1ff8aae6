"""Containers restarting again and again: a crash loop in the making, or one already paging."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity
from tools.scan.objects import Obj, dicts, dig, meta, name_of, namespace_of
from tools.scan.snapshot import Snapshot

ID = "restarts-climbing"
TITLE = "Container restart count is climbing"
WARN_AT = 5
HIGH_AT = 20


def _owner(pod: Obj) -> tuple[str, str]:
    owners = dicts(meta(pod).get("ownerReferences"))
    if owners and owners[0].get("kind") == "ReplicaSet":
        # A Deployment's ReplicaSet is named <deployment>-<template hash>.
        return "Deployment", str(owners[0].get("name") or "").rsplit("-", 1)[0]
    if owners:
        return str(owners[0].get("kind") or "Pod"), str(owners[0].get("name") or "")
    return "Pod", name_of(pod)


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per workload whose pods' containers restarted `WARN_AT` times or more."""
    worst: dict[tuple[str, str, str], tuple[int, str, str]] = {}
    for pod in snapshot.pods:
        for status in dicts(dig(pod, "status", "containerStatuses")):
            count = status.get("restartCount")
            if not isinstance(count, int) or count < WARN_AT:
                continue
            kind, name = _owner(pod)
            key = (namespace_of(pod), kind, name)
            reason = str(dig(status, "lastState", "terminated", "reason") or "")
            if count > worst.get(key, (0, "", ""))[0]:
                worst[key] = (count, str(status.get("name") or ""), reason)
    for (namespace, kind, name), (count, container, reason) in sorted(worst.items()):
        because = f" (last exit: {reason})" if reason else ""
        yield Finding(
            check=ID,
            severity=Severity.HIGH if count >= HIGH_AT else Severity.MEDIUM,
            namespace=namespace,
            kind=kind,
            name=name,
            container=container,
            message=f"container {container} restarted {count} times{because}; "
            f"`paramedic run -n {namespace} -w {kind.lower()}/{name}` investigates",
        )
