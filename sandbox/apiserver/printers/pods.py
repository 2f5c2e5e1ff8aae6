"""The pod row exactly as kubectl's printPod computes it: READY, STATUS (Init:1/2, Init:CrashLoopBackOff,
PodInitializing, CrashLoopBackOff, Completed, NotReady, Terminating, Unknown...), RESTARTS with
"(5m ago)", and the wide columns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.apiserver.printers.common import Obj, Row, col, human_duration, parse_time
from sandbox.apiserver.printers.common import age as age_text

NODE_UNREACHABLE = "NodeLost"


def _restartable(container: dict[str, Any] | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(status: Obj, type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or [])


def pod_columns(pod: Obj) -> tuple[int, int, str, int, str | None]:
    """(ready containers, total, STATUS, restarts, last restart time) as printPod computes them."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(1 for c in init_specs.values() if _restartable(c))
    ready = restarts = sidecar_restarts = 0
    last_restart: str | None = None
    sidecar_last: str | None = None
    phase = status.get("phase") or "Pending"
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    def later(a: str | None, b: str | None) -> str | None:
        return b if b and (a is None or b > a) else a

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += int(cs.get("restartCount") or 0)
        last_term = (cs.get("lastState") or {}).get("terminated")
        if last_term:
            last_restart = later(last_restart, last_term.get("finishedAt"))
        spec_c = init_specs.get(cs.get("name"))
        if _restartable(spec_c):
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if last_term:
                sidecar_last = later(sidecar_last, last_term.get("finishedAt"))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode") == 0:
            continue
        if _restartable(spec_c) and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode')}"
        elif waiting is not None and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, sidecar_last
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term:
                last_restart = later(last_restart, last_term.get("finishedAt"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                reason = (
                    f"Signal:{terminated['signal']}"
                    if terminated.get("signal")
                    else f"ExitCode:{terminated.get('exitCode')}"
                )
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            has_ready_condition = any(c.get("type") == "Ready" for c in status.get("conditions") or [])
            reason = "Running" if has_ready_condition else "NotReady"

    deleting = bool((pod.get("metadata") or {}).get("deletionTimestamp"))
    if deleting and status.get("reason") == NODE_UNREACHABLE:
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return ready, total, reason, restarts, last_restart


def pod_status_reason(pod: Obj) -> str:
    """What kubectl prints in the STATUS column."""
    return pod_columns(pod)[2]


def _readiness_gates(pod: Obj) -> str:
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    if not gates:
        return "<none>"
    conditions = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
    passing = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
    return f"{passing}/{len(gates)}"


def pod_row(pod: Obj, now: datetime) -> Row:
    """NAME READY STATUS RESTARTS AGE | IP NODE NOMINATED NODE READINESS GATES."""
    ready, total, reason, restarts, last = pod_columns(pod)
    restart_text = str(restarts)
    last_time = parse_time(last)
    if restarts and last_time is not None:
        restart_text = f"{restarts} ({human_duration((now - last_time).total_seconds())} ago)"
    status = pod.get("status") or {}
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        restart_text,
        age_text(pod["metadata"].get("creationTimestamp"), now),
        status.get("podIP") or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(pod),
    ]


POD_COLUMNS = [
    col("Name", fmt="name"),
    col("Ready"),
    col("Status"),
    col("Restarts"),
    col("Age"),
    col("IP", priority=1),
    col("Node", priority=1),
    col("Nominated Node", priority=1),
    col("Readiness Gates", priority=1),
]
