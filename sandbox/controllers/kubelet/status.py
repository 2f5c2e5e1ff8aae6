"""Pod status as the kubelet publishes it: phase, conditions (with stable transition times), IPs, QoS
and container statuses, written through the status subresource only when something changed."""

from __future__ import annotations

from typing import Any

from sandbox.clock import rfc3339
from sandbox.controllers.base import put_status
from sandbox.controllers.kubelet.dependencies import Dependencies
from sandbox.controllers.kubelet.runtime import ContainerRuntime, KubeletContext, PodRuntime
from sandbox.images import canonical_reference
from sandbox.resources import PODS
from sandbox.store import Obj


class StatusPublisher:
    """Builds and writes one pod's status from its runtime."""

    def __init__(self, ctx: KubeletContext, deps: Dependencies) -> None:
        self._ctx = ctx
        self._deps = deps

    def publish(self, rt: PodRuntime, pod: Obj, now: float) -> None:
        """Write the pod's status if it changed (and keep the Ready index current)."""
        statuses = [container_status(c, initializing=not rt.initialized) for c in rt.containers]
        readiness = [*rt.containers, *(c for c in rt.init if c.sidecar)]
        all_ready = bool(rt.containers) and rt.initialized and all(c.ready for c in readiness)
        not_ready = [c.name for c in readiness if not c.ready]
        unready_msg = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else ""
        ready_reason = (
            "" if all_ready else ("PodFailed" if rt.evicted or rt.init_failed else "ContainersNotReady")
        )
        if rt.evicted:
            unready_msg = ""
        phase = pod_phase(rt)
        old_status = pod.get("status") or {}
        sched = next((c for c in old_status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        conditions = []
        if rt.evicted:
            conditions.append(_cond(rt, "DisruptionTarget", "True", now, "TerminationByKubelet", rt.evicted))
        incomplete = [c.name for c in rt.init if not (c.succeeded or (c.sidecar and c.ever_started))]
        init_reason = (
            "" if rt.initialized else ("PodFailed" if rt.init_failed else "ContainersNotInitialized")
        )
        init_msg = f"containers with incomplete status: [{' '.join(incomplete)}]" if incomplete else ""
        conditions += [
            _cond(
                rt,
                "PodReadyToStartContainers",
                "True" if rt.sandbox_ready and not rt.evicted else "False",
                now,
            ),
            _cond(rt, "Initialized", "True" if rt.initialized else "False", now, init_reason, init_msg),
            _cond(rt, "Ready", "True" if all_ready else "False", now, ready_reason, unready_msg),
            _cond(rt, "ContainersReady", "True" if all_ready else "False", now, ready_reason, unready_msg),
        ]
        if sched is not None:
            conditions.append(sched)
        status: dict[str, Any] = {
            "phase": phase,
            "conditions": conditions,
            "hostIP": rt.host_ip,
            "hostIPs": [{"ip": rt.host_ip}],
            "podIP": rt.ip,
            "podIPs": [{"ip": rt.ip}],
            "startTime": rfc3339(rt.start_time),
        }
        if rt.init:
            status["initContainerStatuses"] = [container_status(c) for c in rt.init]
        status["containerStatuses"] = statuses
        status["qosClass"] = rt.qos
        if rt.evicted:
            status["reason"] = "Evicted"
            status["message"] = rt.evicted
        if status == rt.last_status:
            return
        rt.last_status = status
        self._deps.set_ready(rt, pod, all_ready and phase == "Running")

        put_status(self._ctx.store, PODS, rt.key, status, rt.uid)


def _cond(rt: PodRuntime, type_: str, status: str, now: float, reason: str = "", msg: str = "") -> dict:
    old = rt.conditions.get(type_)
    if old is None or old[0] != status or old[1] != reason:
        rt.conditions[type_] = (status, reason, now, msg)
    status_, reason_, since, _ = rt.conditions[type_]
    cond = {"type": type_, "status": status_, "lastProbeTime": None, "lastTransitionTime": rfc3339(since)}
    if reason_:
        cond["reason"] = reason_
    if msg:
        cond["message"] = msg
    return cond


def pod_phase(rt: PodRuntime) -> str:
    """Pending until every container started; Succeeded/Failed once all are done; else Running."""
    if rt.evicted or rt.init_failed:
        return "Failed"
    if not rt.initialized:
        return "Pending"
    if not all(c.ever_started for c in rt.containers):
        return "Pending"
    if all(c.stage == "done" for c in rt.containers):
        return (
            "Succeeded" if all((c.terminated or {}).get("exitCode") == 0 for c in rt.containers) else "Failed"
        )
    return "Running"


def container_status(c: ContainerRuntime, initializing: bool = False) -> dict:
    """One entry of containerStatuses: state (waiting/running/terminated), lastState, ready, restarts.

    `initializing`: the pod's init containers have not finished, so an app container waits for them."""
    image = c.spec.get("image", "")
    inst = c.instance
    status: dict[str, Any] = {
        "name": c.name,
        "ready": c.ready,
        "restartCount": c.restart_count,
        "image": image,
        "imageID": "",
        "started": False,
        "lastState": {"terminated": c.last_terminated} if c.last_terminated else {},
    }
    if c.image is not None:
        try:
            status["image"] = canonical_reference(image)
            status["imageID"] = canonical_reference(image).rsplit(":", 1)[0] + "@" + c.image.digest
        except ValueError:
            pass
    if inst is not None:
        status["containerID"] = inst.container_id
    if c.stage == "running" and inst is not None:
        status["state"] = {"running": {"startedAt": rfc3339(inst.started)}}
        status["started"] = True
    elif c.terminated is not None:
        status["state"] = {"terminated": c.terminated}
    else:
        reason = "PodInitializing" if initializing and not c.ever_started else c.waiting_reason
        waiting = {"reason": reason or "ContainerCreating"}
        if c.waiting_message:
            waiting["message"] = c.waiting_message
        status["state"] = {"waiting": waiting}
    return status
