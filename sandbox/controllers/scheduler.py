"""The default scheduler: binds pending pods to the least-allocated node that passes every filter.

Filters are in `scheduler_filters.py` (taints, node affinity, resources incl. extended ones, volume
node affinity, topology spread, inter-pod (anti-)affinity) and `scheduler_volumes.py` (claims). A pod
no node takes gets PodScheduled=False/Unschedulable and a `FailedScheduling` event worded like
kube-scheduler's ("0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient
cpu. preemption: 0/3 nodes are available: ..."), and is retried when pods, nodes or claims change
and every 30 simulated seconds. A pod whose WaitForFirstConsumer claims are unbound gets its node
chosen (the claims are annotated with it) and is bound once they are provisioned.
"""

from __future__ import annotations

from typing import Any

from sandbox.clock import rfc3339
from sandbox.controllers.base import (
    Key,
    WiredController,
    Wiring,
    key_of,
    update_with_retry,
)
from sandbox.controllers.events import Source
from sandbox.controllers.pod_resources import qos_class
from sandbox.controllers.scheduler_filters import (
    NodeInfo,
    filter_node,
    fit_message,
    placed,
    resource_requests,
    score,
)
from sandbox.controllers.scheduler_volumes import SELECTED_NODE, node_conflict, prefilter, waiting_claims
from sandbox.resources import NODES, PERSISTENTVOLUMECLAIMS, PODS
from sandbox.store import Obj, WatchEvent

RETRY_SECONDS = 30.0
SCHEDULER = "default-scheduler"
_SOURCE = Source(SCHEDULER)


class Scheduler(WiredController):
    """Binds pods (spec.nodeName unset, schedulerName default) to nodes."""

    name = "scheduler"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self._nodes: dict[str, NodeInfo] = {}
        self._pod_node: dict[Key, str] = {}
        self._unschedulable: dict[Key, None] = {}
        self._waiting_volumes: dict[Key, str] = {}  # pod -> the node chosen while its claims provision

    def observe(self, event: WatchEvent) -> None:
        """Track bound pods per node; queue unbound pods; retry when capacity, nodes or claims change."""
        if event.key == NODES.key:
            self._retry_all()
            return
        if event.key == PERSISTENTVOLUMECLAIMS.key:
            for key in [*self._waiting_volumes, *self._unschedulable]:
                if key[0] == event.namespace:
                    self.mark(key)
            return
        if event.key != PODS.key:
            return
        key = key_of(event.obj)
        spec = event.obj.get("spec") or {}
        phase = (event.obj.get("status") or {}).get("phase")
        node = spec.get("nodeName")
        active = event.type != "DELETED" and phase not in ("Succeeded", "Failed")
        old = self._pod_node.pop(key, None)
        if old is not None and old in self._nodes:
            self._nodes[old].pods.pop(key, None)
        if active and node:
            self._info(node).pods[key] = placed(event.obj)
            self._pod_node[key] = node
        if old is not None and not (active and node):
            self._retry_all()  # capacity freed (or an anti-affinity rule with it)
        if event.type == "DELETED":
            self._unschedulable.pop(key, None)
            self._waiting_volumes.pop(key, None)
        elif (
            active
            and not node
            and spec.get("schedulerName", SCHEDULER) == SCHEDULER
            and key not in self._unschedulable
        ):
            self.mark(key)

    def _info(self, name: str) -> NodeInfo:
        info = self._nodes.get(name)
        if info is None:
            info = self._nodes[name] = NodeInfo({"metadata": {"name": name}})
        return info

    def _retry_all(self) -> None:
        for key in [*self._unschedulable, *self._waiting_volumes]:
            self.mark(key)

    def sync(self, key: Key) -> None:
        """Try to bind one pod."""
        pod = self._store.find(PODS, key[0], key[1], copy=False)
        if pod is None or (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            self._unschedulable.pop(key, None)
            self._waiting_volumes.pop(key, None)
            return
        chosen = self._waiting_volumes.get(key)
        if chosen is not None:
            self._bind_when_provisioned(pod, key, chosen)
            return
        nodes, _ = self._store.list(NODES, copy=False)
        for node in nodes:
            self._info(node["metadata"]["name"]).node = node
        cluster = [self._nodes[n["metadata"]["name"]] for n in nodes]
        blocked = prefilter(self._store, pod)
        if blocked:
            self._fail(pod, key, len(nodes), {}, {"UnschedulableAndUnresolvable": len(nodes)}, blocked)
            return
        requests = resource_requests(pod.get("spec") or {})
        fits: list[Any] = []
        reasons: dict[str, Any] = {}
        outcomes: dict[str, Any] = {}
        for info in cluster:
            verdict = filter_node(pod, info, cluster, node_conflict(self._store, pod, info.node), requests)
            if verdict is None:
                fits.append(info)
                continue
            why, outcome = verdict
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            for r in why:
                reasons[r] = reasons.get(r, 0) + 1
        if not fits:
            self._fail(pod, key, len(nodes), reasons, outcomes)
            return
        best = min(fits, key=lambda n: (-score(n, pod, cluster), n.name))
        claims = waiting_claims(self._store, pod)
        if claims:
            self._select(claims, best.name)
            self._waiting_volumes[key] = best.name
            self._unschedulable.pop(key, None)
            return
        self._bind(pod, key, best.name)

    def _select(self, claims: list[Obj], node: str) -> None:
        for pvc in claims:
            if (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE) == node:
                continue

            def annotate(obj: Obj, node: str = node) -> bool:
                annotations = obj["metadata"].setdefault("annotations", {})
                if annotations.get(SELECTED_NODE) == node:
                    return False
                annotations[SELECTED_NODE] = node
                return True

            update_with_retry(self._store, PERSISTENTVOLUMECLAIMS, key_of(pvc), annotate)

    def _bind_when_provisioned(self, pod: Obj, key: Key, node: str) -> None:
        if waiting_claims(self._store, pod):
            self._timers.at(self._clock() + RETRY_SECONDS, self.name, key)
            return
        self._waiting_volumes.pop(key, None)
        self._bind(pod, key, node)

    def _fail(
        self,
        pod: Obj,
        key: Key,
        total: int,
        reasons: dict[str, int],
        outcomes: dict[str, int],
        prefilter_msg: str = "",
    ) -> None:
        message = fit_message(total, reasons, outcomes, prefilter_msg)
        self._recorder.emit(pod, "Warning", "FailedScheduling", message, _SOURCE)
        now = self._clock()

        def mutate(obj: Obj) -> bool:
            status = obj.setdefault("status", {})
            status["phase"] = "Pending"
            conds = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            old: dict[str, Any] = next(
                (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {}
            )
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

    def _bind(self, pod: Obj, key: Key, node: str) -> None:
        uid = pod["metadata"].get("uid")

        def bind(obj: Obj) -> bool:
            if obj["metadata"].get("uid") != uid or (obj.get("spec") or {}).get("nodeName"):
                return False
            obj.setdefault("spec", {})["nodeName"] = node
            return True

        if update_with_retry(self._store, PODS, key, bind) is None:
            return
        self._unschedulable.pop(key, None)
        self._info(node).pods[key] = placed(pod)
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
