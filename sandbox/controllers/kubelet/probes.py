"""Startup, liveness and readiness probes: HTTP/TCP/exec/gRPC checks against what the running program
offers, thresholds and periods, `Unhealthy` events, and the kill a failed liveness probe causes.

A running program (`ProgramPlan`, stepped to the probe's time by the lifecycle) answers its probes
itself: an exec probe runs the command in the container, HTTP/TCP/gRPC probes connect to what it
listens on. A static plan's passing probe is not polled again until the instance changes, so a
healthy sandbox app costs nothing per tick; a program's is, since its answer can change.
"""

from __future__ import annotations

from typing import Any

from sandbox.controllers.kubelet.runtime import ContainerRuntime, KubeletContext, PodRuntime, ProbeState
from sandbox.controllers.workload import NEVER
from sandbox.profiles.launch import ProgramPlan
from sandbox.store import Obj


def probe_result(rt: PodRuntime, c: ContainerRuntime, probe: dict, t: float) -> str | None:
    """None on success, else the failure text the kubelet reports."""
    inst = c.instance
    assert inst is not None
    if isinstance(inst.plan, ProgramPlan):
        return inst.plan.probe(probe, t, rt.ip, lambda port: container_port(c, port))
    listening = inst.plan.port is not None and t - inst.started >= inst.plan.listen_after
    if "httpGet" in probe:
        h = probe["httpGet"]
        port = container_port(c, h.get("port"))
        path = h.get("path") or "/"
        scheme = (h.get("scheme") or "HTTP").lower()
        if port != inst.plan.port or not listening:
            return (
                f'Get "{scheme}://{rt.ip}:{port}{path}": dial tcp {rt.ip}:{port}: connect: connection refused'
            )
        if not inst.spec.serves(path):
            return "HTTP probe failed with statuscode: 404"
        return None
    if "tcpSocket" in probe:
        port = container_port(c, probe["tcpSocket"].get("port"))
        if port != inst.plan.port or not listening:
            return f"dial tcp {rt.ip}:{port}: connect: connection refused"
        return None
    if "exec" in probe:
        cmd = (probe["exec"].get("command") or [""])[0]
        if cmd.rsplit("/", 1)[-1] not in inst.spec.binaries:
            return (
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{cmd}": executable file not found in $PATH: unknown'
            )
        return None if listening or inst.plan.port is None else f"command {cmd!r} exited with 1"
    if "grpc" in probe:
        port = container_port(c, probe["grpc"].get("port"))
        return (
            None if listening and port == inst.plan.port else f'timeout: failed to connect service ":{port}"'
        )
    return None


def container_port(c: ContainerRuntime, port: Any) -> int | None:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in c.spec.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def run_probe(
    ctx: KubeletContext, rt: PodRuntime, pod: Obj, c: ContainerRuntime, probe: ProbeState, t: float
) -> bool:
    """Run one probe at `t`; True when the container must be killed (liveness/startup threshold)."""
    inst = c.instance
    assert inst is not None
    period = float(probe.spec.get("periodSeconds") or 10)
    threshold = int(probe.spec.get("failureThreshold") or 3)
    error = probe_result(rt, c, probe.spec, t)
    if error is None:
        probe.failures = 0
        probe.succeeded = True
        if probe.kind == "readiness":
            c.ready = True
        # A static plan's passing probe stays passing until the instance changes: no need to poll
        # it. A running program can change its answer (a file removed, a server degrading).
        program = isinstance(inst.plan, ProgramPlan)
        probe.next_at = t + period if program and probe.kind != "startup" else NEVER
        if probe.kind == "startup":
            c.ready = not any(p.kind == "readiness" for p in c.probes)
            for other in c.probes:
                if other.kind != "startup":
                    other.next_at = max(t, inst.started + float(other.spec.get("initialDelaySeconds") or 0))
        return False
    probe.failures += 1
    kind = probe.kind.capitalize()
    ctx.emit(pod, "Warning", "Unhealthy", f"{kind} probe failed: {error}", c.name, rt.node)
    probe.next_at = t + period
    if probe.kind == "readiness":
        c.ready = False
        return False
    if probe.failures >= threshold:
        why = "failed liveness probe" if probe.kind == "liveness" else "failed startup probe"
        ctx.emit(pod, "Normal", "Killing", f"Container {c.name} {why}, will be restarted", c.name, rt.node)
        return True
    return False
