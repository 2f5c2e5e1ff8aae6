"""The ReplicaSet controller: keeps `spec.replicas` active pods (ownerReference controller=true); status."""

from __future__ import annotations

import random

from sandbox.clock import parse_rfc3339, rfc3339
from sandbox.controllers.base import (
    Cache,
    Key,
    WiredController,
    Wiring,
    key_of,
    update_with_retry,
)
from sandbox.controllers.events import Source
from sandbox.controllers.podtemplate import create_pod, pod_from_template
from sandbox.resources import DEPLOYMENTS, PODS, REPLICASETS
from sandbox.selectors import selector_from_spec
from sandbox.store import ApiError, Obj, WatchEvent

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
_SOURCE = Source("replicaset-controller")


def is_active(pod: Obj) -> bool:
    """Not finished and not being deleted (what the controller counts towards replicas)."""
    return (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed") and not pod["metadata"].get(
        "deletionTimestamp"
    )


def _condition(pod: Obj, type_: str) -> dict:
    return next((c for c in (pod.get("status") or {}).get("conditions") or [] if c.get("type") == type_), {})


def is_ready(pod: Obj) -> bool:
    """Ready condition True."""
    return _condition(pod, "Ready").get("status") == "True"


def ready_since(pod: Obj) -> float | None:
    """When the pod last became Ready (None when not ready)."""
    cond = _condition(pod, "Ready")
    if cond.get("status") != "True" or not cond.get("lastTransitionTime"):
        return None
    return parse_rfc3339(cond["lastTransitionTime"])


class ReplicaSetController(WiredController):
    """Creates and deletes pods to match each ReplicaSet's replicas; writes its status."""

    name = "replicaset"

    def __init__(self, wiring: Wiring, rng: random.Random) -> None:
        super().__init__(wiring)
        self._rng = rng
        self._retry: dict[str, float] = {}  # ReplicaSet uid -> seconds until the next attempt

    def observe(self, event: WatchEvent) -> None:
        """A ReplicaSet changed, or a pod it owns did."""
        if event.key == REPLICASETS.key:
            self.mark(key_of(event.obj))
        elif event.key == PODS.key:
            owner = self._cache.pods.owner_of.get(key_of(event.obj))
            if owner is None:
                for ref in event.obj["metadata"].get("ownerReferences") or []:
                    if ref.get("controller") and ref.get("kind") == "ReplicaSet":
                        owner = ref.get("uid")
            if owner:
                rs_key = self._cache.key_for(REPLICASETS, owner)
                if rs_key:
                    self.mark(rs_key)

    def sync(self, key: Key) -> None:
        """Reconcile one ReplicaSet."""
        rs = self.live(REPLICASETS, key)
        if rs is None:
            return
        uid = rs["metadata"]["uid"]
        pods = [p for k in self._cache.pods.of(uid) if (p := self._store.find(PODS, k[0], k[1], copy=False))]
        active = [p for p in pods if is_active(p)]
        want = int((rs.get("spec") or {}).get("replicas", 1))
        diff = len(active) - want
        failure = None
        if diff < 0:
            created, failure = self._create_pods(rs, -diff)
            active.extend(created)
        elif diff > 0:
            for pod in self._deletion_order(active)[:diff]:
                try:
                    self._store.delete(PODS, key[0], pod["metadata"]["name"])
                except ApiError:
                    continue
                self._cache.pods.observe(key_of(pod), uid, deleted=True)
                self._recorder.emit(
                    rs, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}", _SOURCE
                )
                active = [p for p in active if p is not pod]
        self._update_status(rs, key, active, failure)
        if failure is not None:
            # Requeued with a growing delay, like a controller's rate-limited work queue.
            delay = self._retry.get(uid, 0.5) * 2
            self._retry[uid] = min(delay, 300.0)
            self._timers.at(self._clock() + self._retry[uid], self.name, key)
        else:
            self._retry.pop(uid, None)

    def _create_pods(self, rs: Obj, count: int) -> tuple[list[Obj], str | None]:
        """Create up to `count` pods; (created, the error that stopped creation)."""
        template = (rs.get("spec") or {}).get("template") or {}
        meta = rs["metadata"]
        created: list[Obj] = []
        for _ in range(min(count, 500)):
            for _attempt in range(5):
                suffix = "".join(self._rng.choice(SUFFIX_ALPHABET) for _ in range(5))
                pod = pod_from_template(template, rs, name=f"{meta['name']}-{suffix}")
                try:
                    obj = create_pod(self._store, self._registry, pod, f"{meta['name']}-")
                except ApiError as err:
                    if err.code == 409:
                        continue
                    self._recorder.emit(
                        rs, "Warning", "FailedCreate", f"Error creating: {err.message}", _SOURCE
                    )
                    return created, err.message
                self._cache.pods.observe(key_of(obj), meta["uid"], deleted=False)
                self._recorder.emit(
                    rs, "Normal", "SuccessfulCreate", f"Created pod: {obj['metadata']['name']}", _SOURCE
                )
                created.append(obj)
                break
        return created, None

    def _deletion_order(self, pods: list[Obj]) -> list[Obj]:
        """Deletion order, as in the real controller: unscheduled, pending, not ready, restarted, newest."""
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def rank(p: Obj) -> tuple:
            status = p.get("status") or {}
            restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
            return (
                1 if (p.get("spec") or {}).get("nodeName") else 0,
                phase_rank.get(status.get("phase", "Pending"), 0),
                1 if is_ready(p) else 0,
                -restarts,
                -parse_rfc3339(p["metadata"].get("creationTimestamp", "1970-01-01T00:00:00Z")),
                p["metadata"]["name"],
            )

        return sorted(pods, key=rank)

    def _update_status(self, rs: Obj, key: Key, active: list[Obj], failure: str | None = None) -> None:
        now = self._clock()
        min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
        tmpl_labels = (((rs.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
            "labels"
        ) or {}
        sel = selector_from_spec({"matchLabels": tmpl_labels})
        ready = available = labelled = 0
        wake = None
        for p in active:
            if sel.matches(p["metadata"].get("labels") or {}):
                labelled += 1
            since = ready_since(p)
            if since is None:
                continue
            ready += 1
            if now - since >= min_ready:
                available += 1
            else:
                wake = min(wake or float("inf"), since + min_ready)
        if wake is not None:
            self._timers.at(wake, self.name, key)
        status = {
            "replicas": len(active),
            "fullyLabeledReplicas": labelled,
            "readyReplicas": ready,
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }

        def mutate(obj: Obj) -> bool:
            current = obj.get("status") or {}
            new = {k: v for k, v in status.items() if v or k in ("replicas", "observedGeneration")}
            conditions = [c for c in current.get("conditions") or [] if c.get("type") != "ReplicaFailure"]
            old = next(
                (c for c in current.get("conditions") or [] if c.get("type") == "ReplicaFailure"), None
            )
            if failure is not None:
                conditions.append(old or {
                    "type": "ReplicaFailure", "status": "True", "lastTransitionTime": rfc3339(now),
                    "reason": "FailedCreate", "message": failure,
                })  # fmt: skip
            elif old is not None and len(active) < int((rs.get("spec") or {}).get("replicas", 1)):
                conditions.append(old)  # still short of replicas: the failure stands until creation succeeds
            if conditions:
                new["conditions"] = conditions
            if current == new:
                return False
            obj["status"] = new
            return True

        update_with_retry(self._store, REPLICASETS, key, mutate, status_only=True)


def owner_deployment_key(cache: Cache, rs: Obj) -> Key | None:
    """The (namespace, name) of the Deployment controlling `rs`."""
    for ref in rs["metadata"].get("ownerReferences") or []:
        if ref.get("controller") and ref.get("kind") == "Deployment":
            return cache.key_for(DEPLOYMENTS, ref.get("uid", ""))
    return None
