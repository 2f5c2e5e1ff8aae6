"""Evicting a pod under node pressure: its containers killed, the pod Failed with reason Evicted."""

from __future__ import annotations

from sandbox.clock import rfc3339
from sandbox.controllers.kubelet.runtime import KubeletContext, PodRuntime
from sandbox.controllers.workload import NEVER
from sandbox.store import Obj


def evict(ctx: KubeletContext, rt: PodRuntime, pod: Obj, message: str, now: float) -> None:
    """Kill every container of `rt` and mark the pod evicted (the caller publishes the status)."""
    key = rt.key
    ctx.emit(pod, "Warning", "Evicted", message, "", rt.node)
    for c in rt.every_container:
        if c.instance is not None and c.instance.finished is None:
            ctx.emit(pod, "Normal", "Killing", f"Stopping container {c.name}", c.name, rt.node)
            inst = c.instance
            inst.fold(now)
            inst.finished, inst.exit_code, inst.reason = now, 137, "Error"
            inst.last_ws = inst.working_set(now)
            log = ctx.logs.current(key[0], key[1], c.name)
            if log is not None:
                log.finish(now)
            c.terminated = {
                "exitCode": 137,
                "reason": "Error",
                "startedAt": rfc3339(inst.started),
                "finishedAt": rfc3339(now),
                "containerID": inst.container_id,
            }
        elif c.terminated is None:
            c.terminated = {
                "exitCode": 137,
                "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod was terminated",
                "startedAt": None,
                "finishedAt": None,
            }
        c.stage, c.ready, c.next_at = "done", False, NEVER
    rt.evicted = message
