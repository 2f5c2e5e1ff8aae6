"""The StatefulSet controller: pods `<set>-0`, `<set>-1`... with stable names and claims.

OrderedReady (the default) creates ordinal n only once 0..n-1 are Running and Ready, and removes
the highest ordinal first; Parallel does not wait. Each `volumeClaimTemplates` entry becomes a claim
`<template>-<set>-<ordinal>` (created before its pod, kept when the pod goes). Pods carry
`statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index` and `controller-revision-hash`;
a template change rolls pods from the highest ordinal down (above the partition), one at a time.
Events are worded like kube-controller-manager's ("create Pod web-0 in StatefulSet web successful").
"""

from __future__ import annotations

from sandbox import admission
from sandbox.controllers.base import (
    Key,
    OwnerController,
    key_of,
    put_status,
)
from sandbox.controllers.events import Source
from sandbox.controllers.podtemplate import create_pod, owner_reference, pod_from_template
from sandbox.controllers.replicaset import is_ready
from sandbox.controllers.rollout import template_hash
from sandbox.resources import CONTROLLERREVISIONS, PERSISTENTVOLUMECLAIMS, PODS, STATEFULSETS
from sandbox.store import ApiError, Obj, clone

REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_SOURCE = Source("statefulset-controller")


def _ordinal(set_name: str, pod: Obj) -> int | None:
    suffix = pod["metadata"]["name"][len(set_name) + 1 :]
    return int(suffix) if pod["metadata"]["name"].startswith(set_name + "-") and suffix.isdigit() else None


def _running_ready(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and is_ready(pod)


class StatefulSetController(OwnerController):
    """Reconciles StatefulSets into ordered pods and their claims."""

    name = "statefulset"
    resource = STATEFULSETS

    def reconcile(self, sts: Obj, key: Key) -> None:
        """Reconcile one StatefulSet."""
        spec = sts.get("spec") or {}
        name = key[1]
        revision = f"{name}-{template_hash(spec.get('template') or {})}"
        self._record_revision(sts, revision)
        pods = {
            o: p
            for k in self._cache.pods.of(sts["metadata"]["uid"])
            if (p := self._store.find(PODS, k[0], k[1], copy=False)) is not None
            and (o := _ordinal(name, p)) is not None
        }
        replicas = int(spec.get("replicas", 1))
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is None:
                self._create(sts, ordinal, revision)
                if ordered:
                    break
                continue
            if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
                self._delete(sts, pod)  # recreated on the next pass
                if ordered:
                    break
                continue
            if ordered and not _running_ready(pod):
                break
        else:
            self._scale_down_or_roll(sts, pods, replicas, revision, ordered)
        self._write_status(sts, key, pods, replicas, revision)

    def _scale_down_or_roll(
        self, sts: Obj, pods: dict[int, Obj], replicas: int, revision: str, ordered: bool
    ) -> None:
        extra = sorted((o for o in pods if o >= replicas), reverse=True)
        for ordinal in extra:
            self._delete(sts, pods[ordinal])
            if ordered:
                return
        if extra:
            return
        strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return
        partition = int((strategy.get("rollingUpdate") or {}).get("partition", 0))
        if not all(_running_ready(p) for p in pods.values()):
            return
        for ordinal in sorted(pods, reverse=True):
            pod = pods[ordinal]
            if ordinal >= partition and (pod["metadata"].get("labels") or {}).get(REVISION_LABEL) != revision:
                self._delete(sts, pod)
                return

    def _create(self, sts: Obj, ordinal: int, revision: str) -> None:
        spec = sts.get("spec") or {}
        set_name = sts["metadata"]["name"]
        pod_name = f"{set_name}-{ordinal}"
        volumes = {
            v.get("name"): v for v in ((spec.get("template") or {}).get("spec") or {}).get("volumes") or []
        }
        for template in spec.get("volumeClaimTemplates") or []:
            claim = f"{template['metadata']['name']}-{set_name}-{ordinal}"
            volumes[template["metadata"]["name"]] = {
                "name": template["metadata"]["name"],
                "persistentVolumeClaim": {"claimName": claim},
            }
            exists = self._store.find(PERSISTENTVOLUMECLAIMS, sts["metadata"]["namespace"], claim, copy=False)
            if exists is None and not self._create_claim(sts, template, claim, pod_name):
                return
        overrides = {"hostname": pod_name}
        if spec.get("serviceName"):
            overrides["subdomain"] = spec["serviceName"]
        labels = {REVISION_LABEL: revision, POD_NAME_LABEL: pod_name, POD_INDEX_LABEL: str(ordinal)}
        pod = pod_from_template(spec.get("template") or {}, sts, name=pod_name, labels=labels,
                                spec_overrides=overrides)  # fmt: skip
        if volumes:
            pod["spec"]["volumes"] = list(volumes.values())
        try:
            created = create_pod(self._store, self._registry, pod)
        except ApiError as err:
            message = f"create Pod {pod_name} in StatefulSet {set_name} failed error: {err.message}"
            self._recorder.emit(sts, "Warning", "FailedCreate", message, _SOURCE)
            return
        self._cache.pods.observe(key_of(created), sts["metadata"]["uid"], deleted=False)
        message = f"create Pod {pod_name} in StatefulSet {set_name} successful"
        self._recorder.emit(sts, "Normal", "SuccessfulCreate", message, _SOURCE)

    def _create_claim(self, sts: Obj, template: Obj, claim: str, pod_name: str) -> bool:
        set_name = sts["metadata"]["name"]
        tmeta = template.get("metadata") or {}
        labels = {
            **(tmeta.get("labels") or {}),
            **((sts.get("spec") or {}).get("selector") or {}).get("matchLabels", {}),
        }
        obj: Obj = {
            "metadata": {"name": claim, "namespace": sts["metadata"]["namespace"], "labels": labels},
            "spec": clone(template.get("spec") or {}),
            "status": {"phase": "Pending"},
        }
        if tmeta.get("annotations"):
            obj["metadata"]["annotations"] = dict(tmeta["annotations"])
        policy = (sts.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        if policy.get("whenDeleted") == "Delete":
            obj["metadata"]["ownerReferences"] = [owner_reference(sts)]
        obj["spec"].setdefault("volumeMode", "Filesystem")
        try:
            admission.create(self._store, self._registry, PERSISTENTVOLUMECLAIMS, obj)
        except ApiError as err:
            message = f"create Claim {claim} for Pod {pod_name} in StatefulSet {set_name} failed "
            message += f"error: {err.message}"
            self._recorder.emit(sts, "Warning", "FailedCreate", message, _SOURCE)
            return False
        message = f"create Claim {claim} Pod {pod_name} in StatefulSet {set_name} success"
        self._recorder.emit(sts, "Normal", "SuccessfulCreate", message, _SOURCE)
        return True

    def _delete(self, sts: Obj, pod: Obj) -> None:
        try:
            self._store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        except ApiError:
            return
        message = f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful"
        self._recorder.emit(sts, "Normal", "SuccessfulDelete", message, _SOURCE)

    def _record_revision(self, sts: Obj, revision: str) -> None:
        namespace = sts["metadata"]["namespace"]
        if self._store.find(CONTROLLERREVISIONS, namespace, revision, copy=False) is not None:
            return
        existing, _ = self._store.list(CONTROLLERREVISIONS, namespace, copy=False)
        mine = [r for r in existing if any(o.get("uid") == sts["metadata"]["uid"]
                                           for o in r["metadata"].get("ownerReferences") or [])]  # fmt: skip
        number = max((int(r.get("revision", 0)) for r in mine), default=0) + 1
        labels = dict(
            (((sts.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}
        )
        labels[REVISION_LABEL] = revision
        body = {
            "metadata": {"name": revision, "namespace": namespace, "labels": labels,
                         "ownerReferences": [owner_reference(sts)]},
            "data": {"spec": {"template": clone((sts.get("spec") or {}).get("template") or {})}},
            "revision": number,
        }  # fmt: skip
        try:
            self._store.create(CONTROLLERREVISIONS, body)
        except ApiError:
            return

    def _write_status(self, sts: Obj, key: Key, pods: dict[int, Obj], replicas: int, revision: str) -> None:
        live = [p for p in pods.values() if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if _running_ready(p))
        updated = sum(1 for p in live if (p["metadata"].get("labels") or {}).get(REVISION_LABEL) == revision)
        current_revision = (sts.get("status") or {}).get("currentRevision") or revision
        if updated == len(live) == replicas:
            current_revision = revision
        status = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(live),
            "readyReplicas": ready,
            "currentReplicas": updated if current_revision == revision else len(live) - updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current_revision,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[k]:
                del status[k]

        put_status(self._store, STATEFULSETS, key, status)
