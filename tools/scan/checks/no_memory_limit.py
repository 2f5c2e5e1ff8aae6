"""Containers without a memory limit: one leak can starve the whole node."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import containers, dig
from tools.scan.quantity import format_memory, parse_quantity
from tools.scan.snapshot import Snapshot

ID = "no-memory-limit"
TITLE = "Container has no memory limit"
DEFAULT_LIMIT = "512Mi"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per workload container without `resources.limits.memory`."""
    for workload in snapshot.workloads:
        for container in containers(workload):
            if dig(container, "resources", "limits", "memory") is not None:
                continue
            request = parse_quantity(dig(container, "resources", "requests", "memory"))
            limit = format_memory(request * 2) if request else DEFAULT_LIMIT
            name = str(container.get("name") or "")
            yield container_finding(
                ID,
                Severity.MEDIUM,
                workload,
                name,
                f"container {name} has no memory limit: a leak can starve its node; "
                f"size the limit from its real peak usage ({limit} suggested)",
                {"resources": {"limits": {"memory": limit}}},
            )
