"""Containers with neither a readiness nor a liveness probe: traffic reaches them before they are up,
and a hung process is never restarted."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import containers, dicts
from tools.scan.snapshot import Snapshot

ID = "no-probes"
TITLE = "Container has no readiness or liveness probe"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per workload container without any probe (DaemonSets included)."""
    for workload in snapshot.workloads:
        for container in containers(workload):
            if any(container.get(p) for p in ("readinessProbe", "livenessProbe", "startupProbe")):
                continue
            name = str(container.get("name") or "")
            ports = dicts(container.get("ports"))
            port = ports[0].get("containerPort") if ports else None
            if port is None:
                continue  # nothing listens: a worker; a probe would need a command we cannot guess
            yield container_finding(
                ID,
                Severity.LOW,
                workload,
                name,
                f"container {name} listens on {port} but has no readiness or liveness probe",
                {"readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10}},
            )
