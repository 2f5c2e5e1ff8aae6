"""Pods whose requests no node can hold: they stay Pending forever."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import containers, dig
from tools.scan.quantity import format_cpu, format_memory, parse_quantity
from tools.scan.snapshot import Snapshot

ID = "requests-exceed-nodes"
TITLE = "Pod requests more than any node can hold"
_FORMAT = {"cpu": format_cpu, "memory": format_memory}


def _allocatable(snapshot: Snapshot, resource: str) -> float | None:
    values = [
        parse_quantity(
            dig(node, "status", "allocatable", resource) or dig(node, "status", "capacity", resource)
        )
        for node in snapshot.nodes
    ]
    known = [v for v in values if v is not None]
    return max(known) if known else None


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per workload whose pod's summed requests exceed the largest node's allocatable."""
    for resource in ("cpu", "memory"):
        largest = _allocatable(snapshot, resource)
        if largest is None:
            continue
        for workload in snapshot.workloads:
            wanted = [
                (str(c.get("name") or ""), parse_quantity(dig(c, "resources", "requests", resource)) or 0.0)
                for c in containers(workload)
            ]
            total = sum(value for _, value in wanted)
            if total <= largest:
                continue
            name, biggest = max(wanted, key=lambda item: item[1])
            fitting = max(biggest - (total - largest * 0.8), 0.0) or largest * 0.5
            yield container_finding(
                ID,
                Severity.HIGH,
                workload,
                name,
                f"its pods request {_FORMAT[resource](total)} {resource}; the largest node has "
                f"{_FORMAT[resource](largest)} allocatable, so they can never be scheduled",
                {"resources": {"requests": {resource: _FORMAT[resource](fitting)}}},
            )
