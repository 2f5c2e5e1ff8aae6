"""What a pod asks of a node: its QoS class and its summed requests (the scheduler's and kubelet's view)."""

from __future__ import annotations

from sandbox.controllers.quantity import cpu_millis, memory_bytes
from sandbox.store import Obj


def qos_class(spec: Obj) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = spec.get("containers") or []
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            any_set = True
        for r in ("cpu", "memory"):
            lim = limits.get(r)
            req = requests.get(r, lim)
            if lim is None or req is None or memory_bytes(req) != memory_bytes(lim):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_requests(spec: Obj) -> tuple[int, int]:
    """Summed (cpu millicores, memory bytes) requests; limits stand in for missing requests."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        cpu += cpu_millis(req.get("cpu", lim.get("cpu")))
        mem += memory_bytes(req.get("memory", lim.get("memory")))
    return cpu, mem
