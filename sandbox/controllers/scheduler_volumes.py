"""The scheduler's VolumeBinding plugin: a pod's claims must exist; an unbound claim of an Immediate class
(or of a class that does not exist) keeps the pod Pending; a bound volume's node affinity limits the
nodes; a WaitForFirstConsumer claim is provisioned for the node the scheduler picks."""

from __future__ import annotations

from sandbox.controllers.node_match import matches_node
from sandbox.resources import PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES, STORAGECLASSES
from sandbox.store import Obj, Store

SELECTED_NODE = "volume.kubernetes.io/selected-node"
NO_PROVISIONER = "kubernetes.io/no-provisioner"


def claims(store: Store, pod: Obj) -> list[tuple[str, Obj | None]]:
    """(claim name, claim or None) of every persistentVolumeClaim volume of the pod."""
    namespace = pod["metadata"].get("namespace", "")
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        source = volume.get("persistentVolumeClaim")
        if source:
            name = source.get("claimName", "")
            out.append((name, store.find(PERSISTENTVOLUMECLAIMS, namespace, name, copy=False)))
    return out


def bound(pvc: Obj) -> bool:
    """The claim is bound to a volume."""
    phase = (pvc.get("status") or {}).get("phase")
    return bool((pvc.get("spec") or {}).get("volumeName")) and phase == "Bound"


def _class(store: Store, pvc: Obj) -> Obj | None:
    name = (pvc.get("spec") or {}).get("storageClassName")
    return store.find(STORAGECLASSES, "", name, copy=False) if name else None


def delayed(store: Store, pvc: Obj) -> bool:
    """An unbound claim whose class binds WaitForFirstConsumer."""
    cls = _class(store, pvc)
    return not bound(pvc) and cls is not None and cls.get("volumeBindingMode") == "WaitForFirstConsumer"


def prefilter(store: Store, pod: Obj) -> str | None:
    """Why no node can take the pod because of its claims (None when the claims allow scheduling)."""
    for name, pvc in claims(store, pod):
        if pvc is None:
            return f'persistentvolumeclaim "{name}" not found'
        if pvc["metadata"].get("deletionTimestamp"):
            return f'persistentvolumeclaim "{name}" is being deleted'
    for _, pvc in claims(store, pod):
        if pvc is not None and not bound(pvc) and not delayed(store, pvc):
            return "pod has unbound immediate PersistentVolumeClaims"
    return None


def node_conflict(store: Store, pod: Obj, node: Obj) -> str | None:
    """Why this node cannot take the pod's volumes (a bound volume elsewhere, nothing to provision)."""
    for _, pvc in claims(store, pod):
        if pvc is None:
            continue
        if bound(pvc):
            pv = store.find(PERSISTENTVOLUMES, "", pvc["spec"]["volumeName"], copy=False)
            required = ((pv or {}).get("spec") or {}).get("nodeAffinity", {}).get("required")
            if required and not _on(required, node):
                return "node(s) had volume node affinity conflict"
        elif delayed(store, pvc):
            cls = _class(store, pvc) or {}
            if cls.get("provisioner") == NO_PROVISIONER and not _static_volume(store, pvc, node):
                return "node(s) didn't find available persistent volumes to bind"
    return None


def _static_volume(store: Store, pvc: Obj, node: Obj) -> bool:
    volumes, _ = store.list(PERSISTENTVOLUMES, copy=False)
    cls = (pvc.get("spec") or {}).get("storageClassName")
    for pv in volumes:
        spec = pv.get("spec") or {}
        if (pv.get("status") or {}).get("phase") != "Available" or spec.get("storageClassName") != cls:
            continue
        required = (spec.get("nodeAffinity") or {}).get("required")
        if not required or _on(required, node):
            return True
    return False


def waiting_claims(store: Store, pod: Obj) -> list[Obj]:
    """The pod's WaitForFirstConsumer claims that are not bound yet."""
    return [pvc for _, pvc in claims(store, pod) if pvc is not None and delayed(store, pvc)]


def _on(required: Obj, node: Obj) -> bool:
    """Whether a volume's required node affinity admits the node."""
    return matches_node(
        {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}}, node
    )
