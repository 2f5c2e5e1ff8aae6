"""Rows of the storage kinds: PersistentVolumeClaims, PersistentVolumes, StorageClasses."""

from __future__ import annotations

from datetime import datetime

from sandbox.apiserver.printers.common import Obj, Printer, Row, age, col

_MODES = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"}
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def access_modes(modes: list[str] | None) -> str:
    """GetAccessModesAsString: RWO,ROX,RWX,RWOP in that order."""
    present = set(modes or [])
    return ",".join(short for long, short in _MODES.items() if long in present)


def _pvc(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    bound = status.get("phase") == "Bound"
    return [
        obj["metadata"]["name"],
        status.get("phase", "Pending"),
        spec.get("volumeName", ""),
        (status.get("capacity") or {}).get("storage", "") if bound else "",
        access_modes(status.get("accessModes")) if bound else "",
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        age(obj["metadata"].get("creationTimestamp"), now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _pv(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    claim = spec.get("claimRef") or {}
    return [
        obj["metadata"]["name"],
        (spec.get("capacity") or {}).get("storage", ""),
        access_modes(spec.get("accessModes")),
        spec.get("persistentVolumeReclaimPolicy", "Retain"),
        status.get("phase", "Pending"),
        f"{claim.get('namespace')}/{claim.get('name')}" if claim else "",
        spec.get("storageClassName") or "",
        spec.get("volumeAttributesClassName") or "<unset>",
        status.get("reason", ""),
        age(obj["metadata"].get("creationTimestamp"), now),
        spec.get("volumeMode", "Filesystem"),
    ]


def _storageclass(obj: Obj, now: datetime) -> Row:
    name = obj["metadata"]["name"]
    if ((obj["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) or "").lower() == "true":
        name += " (default)"
    return [
        name,
        obj.get("provisioner", ""),
        obj.get("reclaimPolicy", "Delete"),
        obj.get("volumeBindingMode", "Immediate"),
        bool(obj.get("allowVolumeExpansion", False)),
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


PRINTERS: dict[str, Printer] = {
    "/persistentvolumeclaims": (
        [col("Name", fmt="name"), col("Status"), col("Volume"), col("Capacity"), col("Access Modes"),
         col("StorageClass"), col("VolumeAttributesClass"), col("Age"), col("VolumeMode", priority=1)],
        _pvc,
    ),
    "/persistentvolumes": (
        [col("Name", fmt="name"), col("Capacity"), col("Access Modes"), col("Reclaim Policy"), col("Status"),
         col("Claim"), col("StorageClass"), col("VolumeAttributesClass"), col("Reason"), col("Age"),
         col("VolumeMode", priority=1)],
        _pv,
    ),
    "storage.k8s.io/storageclasses": (
        [col("Name", fmt="name"), col("Provisioner"), col("ReclaimPolicy"), col("VolumeBindingMode"),
         col("AllowVolumeExpansion", "boolean"), col("Age")],
        _storageclass,
    ),
}  # fmt: skip
