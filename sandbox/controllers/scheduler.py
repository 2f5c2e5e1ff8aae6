"""The default scheduler: binds pending pods to the least-allocated node whose allocatable fits.

Fit is node allocatable vs the summed requests of the pods bound to it (as kube-scheduler's
NodeResourcesFit), plus readiness, `unschedulable` and NoSchedule taints. A pod nothing fits
gets PodScheduled=False/Unschedulable and a `FailedScheduling` event worded like the real one
("0/3 nodes are available: 3 Insufficient memory. ..."), and is retried when pods or nodes
change and every 30 simulated seconds.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.clock import rfc3339
from sandbox.controllers.base import Controller, Key, Timers, key_of, update_with_retry
from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.pod_resources import pod_requests, qos_class
from sandbox.controllers.quantity import cpu_millis, memory_bytes
from sandbox.resources import NODES, PODS
from sandbox.store import Obj, Store, WatchEvent

RETRY_SECONDS = 30.0
SCHEDULER = "default-scheduler"
_SOURCE = Source(SCHEDULER)


def _tolerates(pod: Obj, taint: dict) -> bool:
    for tol in (pod.get("spec") or {}).get("tolerations") or []:
        if tol.get("operator") == "Exists" and not tol.get("key"):
            return True
        same_key = tol.get("key") == taint.get("key")
        same_effect = not tol.get("effect") or tol.get("effect") == taint.get("effect")
        if (
            same_key
            and same_effect
            and (tol.get("operator") == "Exists" or tol.get("value", "") == taint.get("value", ""))
        ):
            return True
    return False


class Scheduler(Controller):
    """Binds pods (spec.nodeName unset, schedulerName default) to nodes."""

    name = "scheduler"

    def __init__(
        self, store: Store, clock: Callable[[], float], timers: Timers, recorder: EventRecorder
    ) -> None:
        super().__init__()
        self._store = store
        self._clock = clock
        self._timers = timers
        self._recorder = recorder
        self._usage: dict[str, dict[Key, tuple[int, int]]] = {}  # node -> pod -> (cpu m, mem bytes)
        self._pod_node: dict[Key, str] = {}
        self._unschedulable: dict[Key, None] = {}

    def observe(self, event: WatchEvent) -> None:
        """Track per-node requests; queue unbound pods; retry unschedulable ones when capacity frees up."""
        if event.key == NODES.key:
            self._retry_all()
            return
        if event.key != PODS.key:
            return
        key = key_of(event.obj)
        spec = event.obj.get("spec") or {}
        phase = (event.obj.get("status") or {}).get("phase")
        node = spec.get("nodeName")
        active = event.type != "DELETED" and phase not in ("Succeeded", "Failed")
        old = self._pod_node.pop(key, None)
        if old is not None:
            self._usage.get(old, {}).pop(key, None)
        if active and node:
            self._usage.setdefault(node, {})[key] = pod_requests(spec)
            self._pod_node[key] = node
        if old is not None and not (active and node):
            self._retry_all()  # capacity freed
        if event.type == "DELETED":
            self._unschedulable.pop(key, None)
        elif (
            active
            and not node
            and spec.get("schedulerName", SCHEDULER) == SCHEDULER
            and key not in self._unschedulable
        ):
            self.mark(key)

    def _retry_all(self) -> None:
        for key in self._unschedulable:
            self.mark(key)

    def sync(self, key: Key) -> None:
        """Try to bind one pod."""
        pod = self._store.find(PODS, key[0], key[1], copy=False)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            self._unschedulable.pop(key, None)
            return
        nodes, _ = self._store.list(NODES, copy=False)
        cpu, mem = pod_requests(pod.get("spec") or {})
        fits, reasons = [], {}
        for node in nodes:
            why = self._why_not(pod, node, cpu, mem)
            if why:
                for r in why:
                    reasons[r] = reasons.get(r, 0) + 1
            else:
                fits.append(node)
        if not fits:
            self._fail(pod, key, len(nodes), reasons)
            return
        best = min(fits, key=lambda n: (self._score(n), n["metadata"]["name"]))
        self._bind(pod, key, best["metadata"]["name"], cpu, mem)

    def _score(self, node: Obj) -> float:
        alloc = (node.get("status") or {}).get("allocatable") or {}
        used = self._usage.get(node["metadata"]["name"], {}).values()
        cpu_frac = sum(u[0] for u in used) / max(cpu_millis(alloc.get("cpu", "0")), 1)
        mem_frac = sum(u[1] for u in used) / max(memory_bytes(alloc.get("memory", "0")), 1)
        return (cpu_frac + mem_frac) / 2

    def _why_not(self, pod: Obj, node: Obj, cpu: int, mem: int) -> list[str]:
        status = node.get("status") or {}
        spec = node.get("spec") or {}
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        if ready.get("status") != "True":
            return ["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
        if spec.get("unschedulable"):
            return ["node(s) were unschedulable"]
        for taint in spec.get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(pod, taint):
                value = taint.get("value", "")
                return [f"node(s) had untolerated taint {{{taint.get('key')}: {value}}}"]
        sel = (pod.get("spec") or {}).get("nodeSelector") or {}
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in sel.items()):
            return ["node(s) didn't match Pod's node affinity/selector"]
        alloc = status.get("allocatable") or {}
        used = self._usage.get(node["metadata"]["name"], {}).values()
        out = []
        if cpu and sum(u[0] for u in used) + cpu > cpu_millis(alloc.get("cpu", "0")):
            out.append("Insufficient cpu")
        if mem and sum(u[1] for u in used) + mem > memory_bytes(alloc.get("memory", "0")):
            out.append("Insufficient memory")
        pods = int(alloc.get("pods", "110"))
        if len(used) + 1 > pods:
            out.append("Too many pods")
        return out

    def _fail(self, pod: Obj, key: Key, total: int, reasons: dict[str, int]) -> None:
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        message = (
            f"0/{total} nodes are available: {detail}." if total else "no nodes available to schedule pods"
        )
        if total and any(r.startswith("Insufficient") for r in reasons):
            message += (
                f" preemption: 0/{total} nodes are available: {total} No preemption victims found for "
                "incoming pod."
            )
        elif total:
            message += (
                f" preemption: 0/{total} nodes are available: {total} Preemption is not helpful for "
                "scheduling."
            )
        self._recorder.emit(pod, "Warning", "FailedScheduling", message, _SOURCE)
        now = self._clock()

        def mutate(obj: Obj) -> bool:
            status = obj.setdefault("status", {})
            status["phase"] = "Pending"
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            old = next((c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {})
            since = old.get("lastTransitionTime") if old.get("status") == "False" else rfc3339(now)
            conds.append(
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "lastProbeTime": None,
                    "lastTransitionTime": since,
                    "reason": "Unschedulable",
                    "message": message,
                }
            )
            if conds == status.get("conditions"):
                return False
            status["conditions"] = conds
            status.setdefault("qosClass", _qos(obj))
            return True

        update_with_retry(self._store, PODS, key, mutate, status_only=True)
        self._unschedulable[key] = None
        self._timers.at(now + RETRY_SECONDS, self.name, key)

    def _bind(self, pod: Obj, key: Key, node: str, cpu: int, mem: int) -> None:
        uid = pod["metadata"].get("uid")

        def bind(obj: Obj) -> bool:
            if obj["metadata"].get("uid") != uid or (obj.get("spec") or {}).get("nodeName"):
                return False
            obj.setdefault("spec", {})["nodeName"] = node
            return True

        if update_with_retry(self._store, PODS, key, bind) is None:
            return
        self._unschedulable.pop(key, None)
        self._usage.setdefault(node, {})[key] = (cpu, mem)
        self._pod_node[key] = node
        now = rfc3339(self._clock())

        def scheduled(obj: Obj) -> bool:
            status = obj.setdefault("status", {})
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conds.append(
                {"type": "PodScheduled", "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
            )
            status["conditions"] = conds
            status.setdefault("phase", "Pending")
            status.setdefault("qosClass", _qos(obj))
            return True

        update_with_retry(self._store, PODS, key, scheduled, status_only=True)
        self._recorder.emit(
            pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {node}", _SOURCE
        )


def _qos(pod: Obj) -> str:
    return qos_class(pod.get("spec") or {})
