"""Containers without CPU or memory requests: scheduled blind, and evicted first under pressure."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import containers, dig
from tools.scan.snapshot import Snapshot

ID = "no-requests"
TITLE = "Container has no resource requests"
DEFAULTS = {"cpu": "100m", "memory": "128Mi"}


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per workload container missing a CPU or memory request."""
    for workload in snapshot.workloads:
        for container in containers(workload):
            requests = dig(container, "resources", "requests")
            requests = requests if isinstance(requests, dict) else {}
            missing = [r for r in ("cpu", "memory") if requests.get(r) is None]
            if not missing:
                continue
            name = str(container.get("name") or "")
            yield container_finding(
                ID,
                Severity.LOW,
                workload,
                name,
                f"container {name} requests no {' or '.join(missing)}: the scheduler places it blind "
                "and it is evicted first under node pressure",
                {"resources": {"requests": {r: DEFAULTS[r] for r in missing}}},
            )
