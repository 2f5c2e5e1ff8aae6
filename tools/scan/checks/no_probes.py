"""Containers with neither a readiness nor a liveness probe: traffic reaches them before they are up,
and a hung process is never restarted."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity, as_yaml, container_patch
from tools.scan.objects import containers, dicts, name_of, namespace_of
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
            yield Finding(
                check=ID,
                severity=Severity.LOW,
                namespace=namespace_of(workload),
                kind=str(workload.get("kind")),
                name=name_of(workload),
                container=name,
                message=f"container {name} listens on {port} but has no readiness or liveness probe",
                patch=as_yaml(
                    container_patch(
                        name, {"readinessProbe": {"tcpSocket": {"port": port}, "periodSeconds": 10}}
                    )
                ),
            )
