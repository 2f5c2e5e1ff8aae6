"""Snapshots built from manifests, the way `read_snapshot` would list them."""

from __future__ import annotations

from tests.tools.scan.seeded import NODES, Obj
from tools.scan import Recurring, Snapshot
from tools.scan.snapshot import configmap_keys_only, secret_names_only

_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet"}


def snapshot_of(objects: list[Obj], recurring: list[Recurring] | None = None) -> Snapshot:
    """Sort manifests into a snapshot (ConfigMaps and Secrets reduced as the real read reduces them)."""
    snap = Snapshot(nodes=list(NODES), recurring=recurring or [])
    for obj in objects:
        kind = obj["kind"]
        if kind in _WORKLOADS:
            snap.workloads.append(obj)
        elif kind == "Pod":
            snap.pods.append(obj)
        elif kind == "Service":
            snap.services.append(obj)
        elif kind == "ConfigMap":
            snap.configmaps.append(configmap_keys_only(obj))
        elif kind == "Secret":
            snap.secrets.append(secret_names_only(obj))
        elif kind == "PodDisruptionBudget":
            snap.pdbs.append(obj)
        elif kind == "HorizontalPodAutoscaler":
            snap.hpas.append(obj)
    return snap
