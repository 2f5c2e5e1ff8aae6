"""The Deployment controller: ReplicaSets per pod template, rolling/recreate roll-outs, revisions, status.

Follows kube-controller-manager's deployment controller: the ReplicaSet for the current
template is named `<deployment>-<pod-template-hash>` and labelled with that hash; revisions
live in `deployment.kubernetes.io/revision` on the Deployment and its ReplicaSets (what
`kubectl rollout history/undo` read); a rolling update scales the new ReplicaSet up within
maxSurge and old ones down within maxUnavailable; old ReplicaSets beyond revisionHistoryLimit
are deleted; status carries the replica counts and the Available/Progressing conditions with
the real reasons (including ProgressDeadlineExceeded).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import orjson

from sandbox.clock import parse_rfc3339, rfc3339
from sandbox.controllers.base import Cache, Controller, Key, Timers, key_of, update_with_retry
from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.replicaset import SUFFIX_ALPHABET, owner_deployment_key
from sandbox.resources import DEPLOYMENTS, REPLICASETS
from sandbox.store import ApiError, Obj, Store, WatchEvent, clone

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
_NOT_COPIED = {
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
}
_SOURCE = Source("deployment-controller")


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: Obj, collision_count: int = 0) -> str:
    """The pod-template-hash: FNV-32a of the template, rendered with SafeEncodeString like the real one."""
    data = orjson.dumps(_strip_hash(template), option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    return "".join(SUFFIX_ALPHABET[ord(ch) % len(SUFFIX_ALPHABET)] for ch in str(_fnv32a(data)))


def _strip_hash(template: Obj) -> Obj:
    t = clone(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


def revision(rs: Obj) -> int:
    """The ReplicaSet's revision annotation (0 when missing or malformed)."""
    try:
        return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _resolve(value: int | str | None, total: int, round_up: bool, default: str) -> int:
    value = default if value is None else value
    if isinstance(value, str) and value.endswith("%"):
        frac = total * int(value[:-1]) / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(value)


def surge_and_unavailable(d: Obj) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) resolved against spec.replicas; Recreate gives (0, replicas)."""
    spec = d.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0, replicas
    ru = strategy.get("rollingUpdate") or {}
    surge = _resolve(ru.get("maxSurge"), replicas, True, "25%")
    unavailable = _resolve(ru.get("maxUnavailable"), replicas, False, "25%")
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, min(unavailable, replicas)


class DeploymentController(Controller):
    """Reconciles Deployments into ReplicaSets."""

    name = "deployment"

    def __init__(
        self, store: Store, clock: Callable[[], float], timers: Timers, recorder: EventRecorder, cache: Cache
    ) -> None:
        super().__init__()
        self._store = store
        self._clock = clock
        self._timers = timers
        self._recorder = recorder
        self._cache = cache

    def observe(self, event: WatchEvent) -> None:
        """A Deployment or one of its ReplicaSets changed."""
        if event.key == DEPLOYMENTS.key:
            self.mark(key_of(event.obj))
        elif event.key == REPLICASETS.key:
            dkey = owner_deployment_key(self._cache, event.obj)
            if dkey:
                self.mark(dkey)

    # --- reconcile ----------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Reconcile one Deployment."""
        d = self._store.find(DEPLOYMENTS, key[0], key[1])
        if d is None or d["metadata"].get("deletionTimestamp"):
            return
        spec = d.get("spec") or {}
        template = spec.get("template") or {}
        rss = self._owned(d)
        new_rs = next(
            (rs for rs in rss if _strip_hash(rs["spec"]["template"]) == _strip_hash(template)), None
        )
        olds = [rs for rs in rss if rs is not new_rs]
        max_old = max((revision(rs) for rs in olds), default=0)
        progress_note = None
        if spec.get("paused"):
            self._sync_status(d, key, new_rs, olds, None)
            return
        if new_rs is None:
            new_rs = self._create_rs(d, template, max_old + 1, olds)
            if new_rs is None:
                return
            progress_note = (
                "NewReplicaSetCreated",
                f'Created new replica set "{new_rs["metadata"]["name"]}"',
            )
        elif revision(new_rs) <= max_old:
            new_rs = self._promote(d, new_rs, max_old + 1) or new_rs
            progress_note = ("FoundNewReplicaSet", f'Found new replica set "{new_rs["metadata"]["name"]}"')
        self._set_deployment_revision(key, revision(new_rs))

        if (spec.get("strategy") or {}).get("type") == "Recreate":
            self._recreate(d, new_rs, olds)
        elif not self._reconcile_new(d, new_rs, olds):
            self._reconcile_old(d, new_rs, olds)
        new_rs = self._store.find(REPLICASETS, key[0], new_rs["metadata"]["name"]) or new_rs
        olds = [o for rs in olds if (o := self._store.find(REPLICASETS, key[0], rs["metadata"]["name"]))]
        self._sync_status(d, key, new_rs, olds, progress_note)
        self._cleanup(d, olds)

    def _owned(self, d: Obj) -> list[Obj]:
        ns = d["metadata"]["namespace"]
        out = []
        for rs_key in self._cache.replicasets.of(d["metadata"]["uid"]):
            rs = self._store.find(REPLICASETS, rs_key[0], rs_key[1])
            if rs is not None and rs_key[0] == ns and not rs["metadata"].get("deletionTimestamp"):
                out.append(rs)
        return sorted(out, key=lambda rs: (revision(rs), rs["metadata"]["name"]))

    def _annotations(self, d: Obj, rev: int, replicas_now: int) -> dict:
        spec = d.get("spec") or {}
        surge, _ = surge_and_unavailable(d)
        replicas = int(spec.get("replicas", 1))
        ann = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in _NOT_COPIED}
        ann[REVISION] = str(rev)
        ann[DESIRED] = str(replicas)
        ann[MAX_REPLICAS] = str(replicas + surge)
        return ann

    def _create_rs(self, d: Obj, template: Obj, rev: int, olds: list[Obj]) -> Obj | None:
        meta = d["metadata"]
        spec = d.get("spec") or {}
        for collision in range(0, 10):
            h = template_hash(template, collision)
            tmpl = clone(template)
            tmpl.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
            selector = clone(spec.get("selector") or {})
            selector.setdefault("matchLabels", {})[HASH_LABEL] = h
            replicas = 0
            if (spec.get("strategy") or {}).get("type") != "Recreate":
                replicas = self._new_replicas_count(d, 0, sum(_spec_replicas(o) for o in olds))
            rs = {
                "metadata": {
                    "name": f"{meta['name']}-{h}",
                    "namespace": meta["namespace"],
                    "labels": dict(tmpl["metadata"]["labels"]),
                    "annotations": self._annotations(d, rev, replicas),
                    "ownerReferences": [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": meta["name"],
                            "uid": meta["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ],
                },
                "spec": {
                    "replicas": replicas,
                    "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                    "selector": selector,
                    "template": tmpl,
                },
            }
            try:
                created = self._store.create(REPLICASETS, rs)
            except ApiError as err:
                if err.code == 409:
                    continue  # hash collision with a ReplicaSet of another template: bump collisionCount
                raise
            self._cache.replicasets.observe(key_of(created), meta["uid"], deleted=False)
            self._cache.uid_to_key[(REPLICASETS.key, created["metadata"]["uid"])] = key_of(created)
            if replicas:
                self._recorder.emit(
                    d,
                    "Normal",
                    "ScalingReplicaSet",
                    f"Scaled up replica set {created['metadata']['name']} from 0 to {replicas}",
                    _SOURCE,
                )
            return created
        return None

    def _promote(self, d: Obj, rs: Obj, rev: int) -> Obj | None:
        """An old ReplicaSet matches the template again (rollback): give it the newest revision."""
        old_rev = revision(rs)

        def mutate(obj: Obj) -> bool:
            ann = obj["metadata"].setdefault("annotations", {})
            history = [h for h in ann.get(REVISION_HISTORY, "").split(",") if h]
            if old_rev:
                history.append(str(old_rev))
            ann.update(self._annotations(d, rev, _spec_replicas(obj)))
            if CHANGE_CAUSE not in (d["metadata"].get("annotations") or {}):
                ann.pop(CHANGE_CAUSE, None)
            if history:
                ann[REVISION_HISTORY] = ",".join(history)
            return True

        return update_with_retry(self._store, REPLICASETS, key_of(rs), mutate)

    def _set_deployment_revision(self, key: Key, rev: int) -> None:
        def mutate(obj: Obj) -> bool:
            ann = obj["metadata"].setdefault("annotations", {})
            if ann.get(REVISION) == str(rev):
                return False
            ann[REVISION] = str(rev)
            return True

        update_with_retry(self._store, DEPLOYMENTS, key, mutate)

    def _scale(self, d: Obj, rs: Obj, replicas: int) -> bool:
        old = _spec_replicas(rs)
        if old == replicas:
            return False
        surge, _ = surge_and_unavailable(d)
        want = int((d.get("spec") or {}).get("replicas", 1))

        def mutate(obj: Obj) -> bool:
            obj["spec"]["replicas"] = replicas
            ann = obj["metadata"].setdefault("annotations", {})
            ann[DESIRED] = str(want)
            ann[MAX_REPLICAS] = str(want + surge)
            return True

        if update_with_retry(self._store, REPLICASETS, key_of(rs), mutate) is None:
            return False
        verb = "up" if replicas > old else "down"
        self._recorder.emit(
            d,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {verb} replica set {rs['metadata']['name']} from {old} to {replicas}",
            _SOURCE,
        )
        return True

    def _new_replicas_count(self, d: Obj, new_current: int, others: int) -> int:
        want = int((d.get("spec") or {}).get("replicas", 1))
        surge, _ = surge_and_unavailable(d)
        current = new_current + others
        if current >= want + surge:
            return new_current
        return new_current + min(want + surge - current, want - new_current)

    def _reconcile_new(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> bool:
        want = int((d.get("spec") or {}).get("replicas", 1))
        have = _spec_replicas(new_rs)
        if have == want:
            return False
        if have > want:
            return self._scale(d, new_rs, want)
        target = self._new_replicas_count(d, have, sum(_spec_replicas(o) for o in olds))
        return self._scale(d, new_rs, target)

    def _reconcile_old(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> bool:
        old_count = sum(_spec_replicas(o) for o in olds)
        if old_count == 0:
            return False
        want = int((d.get("spec") or {}).get("replicas", 1))
        _, max_unavailable = surge_and_unavailable(d)
        all_count = old_count + _spec_replicas(new_rs)
        min_available = want - max_unavailable
        new_unavailable = _spec_replicas(new_rs) - _status(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        scaled = False
        # First remove old pods that are not available anyway (they do not count towards availability).
        budget = max_scaled_down
        for rs in sorted(olds, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            if budget <= 0:
                break
            unhealthy = _spec_replicas(rs) - _status(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            cut = min(budget, unhealthy)
            if self._scale(d, rs, _spec_replicas(rs) - cut):
                rs["spec"]["replicas"] = _spec_replicas(rs) - cut
                scaled = True
            budget -= cut
        # Then scale down available old pods while the total stays above minAvailable.
        available = _status(new_rs, "availableReplicas") + sum(_status(o, "availableReplicas") for o in olds)
        room = available - min_available
        for rs in sorted(olds, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            if room <= 0:
                break
            cut = min(room, _spec_replicas(rs))
            if cut and self._scale(d, rs, _spec_replicas(rs) - cut):
                scaled = True
            room -= cut
        return scaled

    def _recreate(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> None:
        active_old = [o for o in olds if _spec_replicas(o) > 0]
        if active_old:
            for o in active_old:
                self._scale(d, o, 0)
            return
        if any(_status(o, "replicas") > 0 for o in olds):
            return  # wait for the old pods to be gone
        self._scale(d, new_rs, int((d.get("spec") or {}).get("replicas", 1)))

    def _cleanup(self, d: Obj, olds: list[Obj]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        idle = [o for o in olds if _spec_replicas(o) == 0 and _status(o, "replicas") == 0]
        idle.sort(key=lambda o: (revision(o), o["metadata"]["name"]))
        for rs in idle[: max(len(idle) - limit, 0)]:
            try:
                self._store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            except ApiError:
                continue

    # --- status -------------------------------------------------------------------------------

    def _sync_status(
        self, d: Obj, key: Key, new_rs: Obj | None, olds: list[Obj], note: tuple[str, str] | None
    ) -> None:
        now = self._clock()
        spec = d.get("spec") or {}
        want = int(spec.get("replicas", 1))
        all_rs = ([new_rs] if new_rs else []) + olds
        _, max_unavailable = surge_and_unavailable(d)
        status = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": sum(_status(r, "replicas") for r in all_rs),
            "updatedReplicas": _status(new_rs, "replicas") if new_rs else 0,
            "readyReplicas": sum(_status(r, "readyReplicas") for r in all_rs),
            "availableReplicas": sum(_status(r, "availableReplicas") for r in all_rs),
        }
        status["unavailableReplicas"] = max(
            sum(_spec_replicas(r) for r in all_rs) - status["availableReplicas"], 0
        )
        old_status = d.get("status") or {}
        conds = {c["type"]: c for c in old_status.get("conditions") or []}
        ts = rfc3339(now)

        def put(type_: str, value: str, reason: str, message: str, touch: bool = True) -> None:
            old = conds.get(type_)
            same = old is not None and old.get("status") == value
            conds[type_] = {
                "type": type_,
                "status": value,
                "lastUpdateTime": ts
                if (touch or not same or old.get("reason") != reason)
                else old["lastUpdateTime"],
                "lastTransitionTime": old["lastTransitionTime"] if same else ts,
                "reason": reason,
                "message": message,
            }

        if status["availableReplicas"] >= want - max_unavailable:
            put(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                touch=False,
            )
        else:
            put(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                touch=False,
            )
        name = new_rs["metadata"]["name"] if new_rs else ""
        deadline = spec.get("progressDeadlineSeconds", 600)
        progressing = conds.get("Progressing")
        complete = (
            new_rs is not None
            and status["updatedReplicas"] == want
            and status["replicas"] == want
            and status["availableReplicas"] == want
        )
        if spec.get("paused"):
            put("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif note is not None:
            put("Progressing", "True", note[0], note[1])
        elif complete:
            already = progressing and progressing.get("reason") == "NewReplicaSetAvailable"
            put(
                "Progressing",
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
                touch=not already,
            )
        elif self._progressed(old_status, status):
            put("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        elif (
            progressing is not None
            and deadline is not None
            and progressing.get("reason") not in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded")
        ):
            since = parse_rfc3339(progressing["lastUpdateTime"])
            if now - since > int(deadline):
                put(
                    "Progressing",
                    "False",
                    "ProgressDeadlineExceeded",
                    f'ReplicaSet "{name}" has timed out progressing.',
                )
                self._recorder.emit(
                    d,
                    "Warning",
                    "ProgressDeadlineExceeded",
                    f'Deployment "{key[1]}" has timed out progressing.',
                    _SOURCE,
                )
        elif progressing is None:
            put("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.')
        current = conds.get("Progressing") or {}
        if (
            not complete
            and deadline is not None
            and current.get("status") == "True"
            and current.get("reason") != "NewReplicaSetAvailable"  # a finished roll-out never times out
        ):
            due = parse_rfc3339(current["lastUpdateTime"]) + int(deadline) + 1
            if due > now:
                self._timers.at(due, self.name, key)
        status["conditions"] = [conds[t] for t in ("Available", "Progressing") if t in conds]
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                del status[k]

        def mutate(obj: Obj) -> bool:
            if obj.get("status") == status:
                return False
            obj["status"] = status
            return True

        update_with_retry(self._store, DEPLOYMENTS, key, mutate, status_only=True)

    @staticmethod
    def _progressed(old: Obj, new: Obj) -> bool:
        return (
            new.get("updatedReplicas", 0) > old.get("updatedReplicas", 0)
            or new.get("readyReplicas", 0) > old.get("readyReplicas", 0)
            or new.get("availableReplicas", 0) > old.get("availableReplicas", 0)
            or (new.get("replicas", 0) - new.get("updatedReplicas", 0))
            < (old.get("replicas", 0) - old.get("updatedReplicas", 0))
        )


def _spec_replicas(rs: Obj) -> int:
    return int((rs.get("spec") or {}).get("replicas", 0) or 0)


def _status(rs: Obj | None, field: str) -> int:
    if rs is None:
        return 0
    return int((rs.get("status") or {}).get(field, 0) or 0)
