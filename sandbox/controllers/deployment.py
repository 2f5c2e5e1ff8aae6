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

from sandbox.controllers.base import (
    Key,
    WiredController,
    Wiring,
    key_of,
    update_with_retry,
)
from sandbox.controllers.deployment_status import DeploymentStatus
from sandbox.controllers.events import Source
from sandbox.controllers.replicaset import owner_deployment_key
from sandbox.controllers.rollout import (
    CHANGE_CAUSE,
    DESIRED,
    HASH_LABEL,
    MAX_REPLICAS,
    NOT_COPIED,
    REVISION,
    REVISION_HISTORY,
    revision,
    spec_replicas,
    status_count,
    strip_hash,
    surge_and_unavailable,
    template_hash,
)
from sandbox.resources import DEPLOYMENTS, REPLICASETS
from sandbox.store import ApiError, Obj, WatchEvent, clone

_SOURCE = Source("deployment-controller")


class DeploymentController(WiredController):
    """Reconciles Deployments into ReplicaSets."""

    name = "deployment"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self._status = DeploymentStatus(wiring.store, wiring.clock, wiring.timers, wiring.recorder, self.name)

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
        d = self.live(DEPLOYMENTS, key, copy=True)
        if d is None:
            return
        spec = d.get("spec") or {}
        template = spec.get("template") or {}
        rss = self._owned(d)
        new_rs = next((rs for rs in rss if strip_hash(rs["spec"]["template"]) == strip_hash(template)), None)
        olds = [rs for rs in rss if rs is not new_rs]
        max_old = max((revision(rs) for rs in olds), default=0)
        progress_note = None
        if spec.get("paused"):
            self._status.sync(d, key, new_rs, olds, None)
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
        self._status.sync(d, key, new_rs, olds, progress_note)
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
        ann = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}
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
                replicas = self._new_replicas_count(d, 0, sum(spec_replicas(o) for o in olds))
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
            ann.update(self._annotations(d, rev, spec_replicas(obj)))
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
        old = spec_replicas(rs)
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
        have = spec_replicas(new_rs)
        if have == want:
            return False
        if have > want:
            return self._scale(d, new_rs, want)
        target = self._new_replicas_count(d, have, sum(spec_replicas(o) for o in olds))
        return self._scale(d, new_rs, target)

    def _reconcile_old(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> bool:
        old_count = sum(spec_replicas(o) for o in olds)
        if old_count == 0:
            return False
        want = int((d.get("spec") or {}).get("replicas", 1))
        _, max_unavailable = surge_and_unavailable(d)
        all_count = old_count + spec_replicas(new_rs)
        min_available = want - max_unavailable
        new_unavailable = spec_replicas(new_rs) - status_count(new_rs, "availableReplicas")
        max_scaled_down = all_count - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        scaled = False
        # First remove old pods that are not available anyway (they do not count towards availability).
        budget = max_scaled_down
        for rs in sorted(olds, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            if budget <= 0:
                break
            unhealthy = spec_replicas(rs) - status_count(rs, "availableReplicas")
            if unhealthy <= 0:
                continue
            cut = min(budget, unhealthy)
            if self._scale(d, rs, spec_replicas(rs) - cut):
                rs["spec"]["replicas"] = spec_replicas(rs) - cut
                scaled = True
            budget -= cut
        # Then scale down available old pods while the total stays above minAvailable.
        available = status_count(new_rs, "availableReplicas") + sum(
            status_count(o, "availableReplicas") for o in olds
        )
        room = available - min_available
        for rs in sorted(olds, key=lambda r: r["metadata"].get("creationTimestamp", "")):
            if room <= 0:
                break
            cut = min(room, spec_replicas(rs))
            if cut and self._scale(d, rs, spec_replicas(rs) - cut):
                scaled = True
            room -= cut
        return scaled

    def _recreate(self, d: Obj, new_rs: Obj, olds: list[Obj]) -> None:
        active_old = [o for o in olds if spec_replicas(o) > 0]
        if active_old:
            for o in active_old:
                self._scale(d, o, 0)
            return
        if any(status_count(o, "replicas") > 0 for o in olds):
            return  # wait for the old pods to be gone
        self._scale(d, new_rs, int((d.get("spec") or {}).get("replicas", 1)))

    def _cleanup(self, d: Obj, olds: list[Obj]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        idle = [o for o in olds if spec_replicas(o) == 0 and status_count(o, "replicas") == 0]
        idle.sort(key=lambda o: (revision(o), o["metadata"]["name"]))
        for rs in idle[: max(len(idle) - limit, 0)]:
            try:
                self._store.delete(REPLICASETS, rs["metadata"]["namespace"], rs["metadata"]["name"])
            except ApiError:
                continue

    # --- status -------------------------------------------------------------------------------
