"""Probes aimed at a port the container does not declare: the probe fails and the pod never gets ready
(or is killed over and over)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tools.scan.finding import Finding, Severity, container_finding
from tools.scan.objects import containers, dicts
from tools.scan.snapshot import Snapshot

ID = "probe-port-not-exposed"
TITLE = "Probe points at a port the container does not expose"
PROBES = ("readinessProbe", "livenessProbe", "startupProbe")


def _probe_port(probe: dict[str, Any]) -> tuple[str, Any] | None:
    for handler in ("httpGet", "tcpSocket", "grpc"):
        spec = probe.get(handler)
        if isinstance(spec, dict) and spec.get("port") is not None:
            return handler, spec["port"]
    return None


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per probe whose port is neither a declared container port number nor a port name."""
    for workload in snapshot.workloads:
        for container in containers(workload):
            ports = dicts(container.get("ports"))
            numbers = {p.get("containerPort") for p in ports}
            names = {p.get("name") for p in ports if p.get("name")}
            for probe_name in PROBES:
                probe = container.get(probe_name)
                found = _probe_port(probe) if isinstance(probe, dict) else None
                if found is None or not ports:
                    continue  # with no ports declared, a numeric probe port may still be right
                handler, port = found
                if port in numbers or port in names:
                    continue
                name = str(container.get("name") or "")
                exposed = ports[0].get("containerPort")
                yield container_finding(
                    ID,
                    Severity.HIGH,
                    workload,
                    name,
                    f"the {probe_name} of {name} probes port {port}, which the container does not "
                    f"expose (it exposes {', '.join(str(n) for n in sorted(numbers, key=str))})",
                    {probe_name: {handler: {"port": exposed}}},
                )
