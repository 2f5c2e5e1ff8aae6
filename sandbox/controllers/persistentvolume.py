"""The persistent-volume controller and a local-path provisioner: claims bind to matching volumes or get
one provisioned by their StorageClass, with the events a real cluster shows.

- a claim naming a class that does not exist stays Pending: `ProvisioningFailed storageclass.storage.k8s.io
  "fast" not found` (unless a volume of that class is there to bind);
- WaitForFirstConsumer (kind's `standard`): `WaitForFirstConsumer` until the scheduler picks a node
  for a pod using it, then provisioned there; Immediate: provisioned at once;
- provisioning: `ExternalProvisioning`, `Provisioning`, `ProvisioningSucceeded`, a PV `pvc-<claim uid>`
  (local-path: pinned to the node) and the claim Bound;
- no class and no volume: `FailedBinding`; a deleted claim's volume is deleted (Delete) or Released.
"""

from __future__ import annotations

import contextlib

from sandbox.clock import rfc3339
from sandbox.controllers.base import (
    Key,
    WiredController,
    Wiring,
    key_of,
    update_with_retry,
)
from sandbox.controllers.events import Source
from sandbox.controllers.quantity import parse_quantity
from sandbox.controllers.scheduler_volumes import NO_PROVISIONER, SELECTED_NODE
from sandbox.resources import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES
from sandbox.store import ApiError, Obj, WatchEvent

PROVISION_SECONDS = 2.0
RETRY_SECONDS = 15.0
_SOURCE = Source("persistentvolume-controller")
_PROVISIONER_ANNOTATIONS = (
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.kubernetes.io/storage-provisioner",
)


def default_storage_class() -> Obj:
    """kind's default class: rancher.io/local-path, WaitForFirstConsumer, Delete."""
    return {
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer",
    }


class PersistentVolumeController(WiredController):
    """Binds claims to volumes and provisions volumes for claims."""

    name = "persistentvolume"

    def __init__(self, wiring: Wiring) -> None:
        super().__init__(wiring)
        self._provisioning: dict[Key, float] = {}  # claim -> when its volume is ready
        self._seen: set[str] = set()  # claims (uids) looked at once

    def observe(self, event: WatchEvent) -> None:
        """A claim changed (or a class or a volume: every pending claim gets another look)."""
        if event.key == PERSISTENTVOLUMECLAIMS.key:
            if event.type == "DELETED":
                self._released(event.obj)
            else:
                self.mark(key_of(event.obj))
        elif event.key in (STORAGECLASSES.key, PERSISTENTVOLUMES.key) and event.type != "DELETED":
            claims, _ = self._store.list(PERSISTENTVOLUMECLAIMS, copy=False)
            for pvc in claims:
                if (pvc.get("status") or {}).get("phase") != "Bound":
                    self.mark(key_of(pvc))

    def sync(self, key: Key) -> None:
        """Bind or provision one claim."""
        pvc = self._store.find(PERSISTENTVOLUMECLAIMS, key[0], key[1], copy=False)
        if pvc is None or (pvc.get("status") or {}).get("phase") == "Bound":
            return
        now = self._clock()
        spec = pvc.get("spec") or {}
        cls_name = spec.get("storageClassName")
        pv = self._matching_volume(pvc)
        if pv is not None:
            self._bind(pvc, pv, now)
            return
        if not cls_name:
            self._recorder.emit(
                pvc, "Normal", "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set", _SOURCE,
            )  # fmt: skip
            return
        cls = self._store.find(STORAGECLASSES, "", cls_name, copy=False)
        if cls is None:
            message = f'storageclass.storage.k8s.io "{cls_name}" not found'
            self._recorder.emit(pvc, "Warning", "ProvisioningFailed", message, _SOURCE)
            self._timers.at(now + RETRY_SECONDS, self.name, key)
            return
        selected = (pvc["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        delayed = cls.get("volumeBindingMode") == "WaitForFirstConsumer"
        if delayed and (not selected or pvc["metadata"]["uid"] not in self._seen):
            # A real claim is seen by this controller before the scheduler picks its pod's node.
            message = "waiting for first consumer to be created before binding"
            self._recorder.emit(pvc, "Normal", "WaitForFirstConsumer", message, _SOURCE)
        self._seen.add(pvc["metadata"]["uid"])
        if delayed and not selected:
            return
        provisioner = cls.get("provisioner", "")
        if provisioner == NO_PROVISIONER:
            return
        due = self._provisioning.get(key)
        if due is None:
            self._start_provisioning(pvc, key, provisioner, now)
            return
        if now < due:
            self._timers.at(due, self.name, key)
            return
        self._provisioning.pop(key, None)
        volume = self._provision(pvc, cls, selected)
        message = f"Successfully provisioned volume {volume['metadata']['name']}"
        self._recorder.emit(pvc, "Normal", "ProvisioningSucceeded", message, Source(provisioner))
        self._bind(pvc, volume, now)

    def _start_provisioning(self, pvc: Obj, key: Key, provisioner: str, now: float) -> None:
        message = (
            f"Waiting for a volume to be created either by the external provisioner '{provisioner}' or "
            "manually by the system administrator. If volume creation is delayed, please verify that the "
            "provisioner is running and correctly registered."
        )
        self._recorder.emit(pvc, "Normal", "ExternalProvisioning", message, _SOURCE)
        message = f'External provisioner is provisioning volume for claim "{key[0]}/{key[1]}"'
        self._recorder.emit(pvc, "Normal", "Provisioning", message, Source(provisioner))

        def annotate(obj: Obj) -> bool:
            annotations = obj["metadata"].setdefault("annotations", {})
            if all(annotations.get(a) == provisioner for a in _PROVISIONER_ANNOTATIONS):
                return False
            for a in _PROVISIONER_ANNOTATIONS:
                annotations[a] = provisioner
            return True

        update_with_retry(self._store, PERSISTENTVOLUMECLAIMS, key, annotate)
        self._provisioning[key] = now + PROVISION_SECONDS
        self._timers.at(now + PROVISION_SECONDS, self.name, key)

    def _provision(self, pvc: Obj, cls: Obj, node: str | None) -> Obj:
        spec = pvc.get("spec") or {}
        meta = pvc["metadata"]
        name = f"pvc-{meta['uid']}"
        storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
        volume: Obj = {
            "metadata": {
                "name": name,
                "annotations": {"pv.kubernetes.io/provisioned-by": cls.get("provisioner", "")},
                "finalizers": ["kubernetes.io/pv-protection"],
            },
            "spec": {
                "capacity": {"storage": storage},
                "accessModes": list(spec.get("accessModes") or ["ReadWriteOnce"]),
                "persistentVolumeReclaimPolicy": cls.get("reclaimPolicy", "Delete"),
                "storageClassName": cls["metadata"]["name"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "claimRef": _claim_ref(pvc),
            },
            "status": {"phase": "Bound"},
        }  # fmt: skip
        if cls.get("provisioner") == "rancher.io/local-path" and node:
            volume["spec"]["hostPath"] = {
                "path": f"/var/local-path-provisioner/{name}_{meta['namespace']}_{meta['name']}",
                "type": "DirectoryOrCreate",
            }
            volume["spec"]["nodeAffinity"] = {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}
                            ]
                        }
                    ]
                }
            }
        try:
            return self._store.create(PERSISTENTVOLUMES, volume)
        except ApiError:
            return self._store.get(PERSISTENTVOLUMES, "", name)

    def _matching_volume(self, pvc: Obj) -> Obj | None:
        spec = pvc.get("spec") or {}
        if spec.get("volumeName"):
            return self._store.find(PERSISTENTVOLUMES, "", spec["volumeName"], copy=False)
        want = parse_quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage", "0"))
        modes = set(spec.get("accessModes") or [])
        volumes, _ = self._store.list(PERSISTENTVOLUMES, copy=False)
        fits = [
            pv
            for pv in volumes
            if (pv.get("status") or {}).get("phase") == "Available"
            and (pv.get("spec") or {}).get("storageClassName", "") == (spec.get("storageClassName") or "")
            and modes <= set((pv.get("spec") or {}).get("accessModes") or [])
            and parse_quantity(((pv.get("spec") or {}).get("capacity") or {}).get("storage", "0")) >= want
        ]
        return min(fits, key=lambda pv: parse_quantity(pv["spec"]["capacity"]["storage"]), default=None)

    def _bind(self, pvc: Obj, pv: Obj, now: float) -> None:
        meta = pvc["metadata"]
        ref = _claim_ref(pvc)

        def claim_volume(obj: Obj) -> bool:
            obj["spec"]["claimRef"] = {**ref, "resourceVersion": meta.get("resourceVersion", "")}
            return True

        def volume_bound(obj: Obj) -> bool:
            if (obj.get("status") or {}).get("phase") == "Bound":
                return False
            obj["status"] = {"phase": "Bound", "lastPhaseTransitionTime": rfc3339(now)}
            return True

        pv_key = ("", pv["metadata"]["name"])
        if ((pv.get("spec") or {}).get("claimRef") or {}).get("uid") != meta["uid"]:
            update_with_retry(self._store, PERSISTENTVOLUMES, pv_key, claim_volume)
        update_with_retry(self._store, PERSISTENTVOLUMES, pv_key, volume_bound, status_only=True)
        capacity = dict((pv.get("spec") or {}).get("capacity") or {})
        modes = list((pv.get("spec") or {}).get("accessModes") or [])

        def claim_spec(obj: Obj) -> bool:
            annotations = obj["metadata"].setdefault("annotations", {})
            changed = obj["spec"].get("volumeName") != pv["metadata"]["name"]
            obj["spec"]["volumeName"] = pv["metadata"]["name"]
            for a in ("pv.kubernetes.io/bind-completed", "pv.kubernetes.io/bound-by-controller"):
                changed = changed or annotations.get(a) != "yes"
                annotations[a] = "yes"
            return changed

        def claim_status(obj: Obj) -> bool:
            obj["status"] = {"phase": "Bound", "accessModes": modes, "capacity": capacity}
            return True

        key = (meta["namespace"], meta["name"])
        update_with_retry(self._store, PERSISTENTVOLUMECLAIMS, key, claim_spec)
        update_with_retry(self._store, PERSISTENTVOLUMECLAIMS, key, claim_status, status_only=True)

    def _released(self, pvc: Obj) -> None:
        name = (pvc.get("spec") or {}).get("volumeName")
        pv = self._store.find(PERSISTENTVOLUMES, "", name, copy=False) if name else None
        if pv is None or not isinstance(name, str):
            return
        if (pv.get("spec") or {}).get("persistentVolumeReclaimPolicy") == "Delete":
            with contextlib.suppress(ApiError):
                self._store.delete(PERSISTENTVOLUMES, "", name)
            return

        def released(obj: Obj) -> bool:
            obj["status"] = {"phase": "Released"}
            return True

        update_with_retry(self._store, PERSISTENTVOLUMES, ("", name), released, status_only=True)


def _claim_ref(pvc: Obj) -> Obj:
    meta = pvc["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
    }
