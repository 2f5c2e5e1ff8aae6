"""Volume set-up before a pod's containers start: ConfigMap, Secret and projected sources must exist
(and hold the keys `items` name) unless `optional`, and a claim must be bound. A failure is the
kubelet's `FailedMount` event ("MountVolume.SetUp failed for volume "config" : configmap "app" not
found"); the pod stays ContainerCreating (Init:0/N with init containers) and the kubelet retries."""

from __future__ import annotations

from sandbox.configdata import source_data
from sandbox.resources import CONFIGMAPS, PERSISTENTVOLUMECLAIMS, SECRETS
from sandbox.store import Obj, Store

MOUNT_RETRY_START = 2.0
MOUNT_RETRY_MAX = 122.0  # the kubelet's volume manager backs off to 2m2s
MOUNT_TIMEOUT = 120.0  # after this the kubelet also reports "Unable to attach or mount volumes"


def _keyed(store: Store, namespace: str, kind: str, source: Obj) -> str | None:
    """The error for a configMap/secret source (None when it mounts)."""
    is_secret = kind == "secret"
    name = source.get("secretName" if is_secret and "secretName" in source else "name", "")
    rtype = SECRETS if is_secret else CONFIGMAPS
    obj = store.find(rtype, namespace, name, copy=False)
    if obj is None:
        return None if source.get("optional") else f'{kind} "{name}" not found'
    data = source_data(obj, is_secret)
    data.update({k: "" for k in obj.get("binaryData") or {}})
    for item in source.get("items") or []:
        key = item.get("key", "")
        if key not in data and not source.get("optional"):
            return (
                f"references non-existent secret key: {key}"
                if is_secret
                else f"configmap references non-existent config key: {key}"
            )
    return None


def volume_error(store: Store, namespace: str, volume: Obj) -> str | None:
    """Why one volume cannot be set up now (None when it can)."""
    if "configMap" in volume:
        return _keyed(store, namespace, "configmap", volume["configMap"] or {})
    if "secret" in volume:
        return _keyed(store, namespace, "secret", volume["secret"] or {})
    if "projected" in volume:
        errors = []
        for source in (volume["projected"] or {}).get("sources") or []:
            for kind, key in (("configmap", "configMap"), ("secret", "secret")):
                if key in source:
                    error = _keyed(store, namespace, kind, source[key] or {})
                    if error:
                        errors.append(error)
        if not errors:
            return None
        return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"
    if "persistentVolumeClaim" in volume:
        claim = (volume["persistentVolumeClaim"] or {}).get("claimName", "")
        pvc = store.find(PERSISTENTVOLUMECLAIMS, namespace, claim, copy=False)
        if pvc is None:
            return f'persistentvolumeclaim "{claim}" not found'
        if (pvc.get("status") or {}).get("phase") != "Bound":
            return f'persistentvolumeclaim "{claim}" is not bound'
    return None


def unmountable(store: Store, pod: Obj) -> list[tuple[str, str]]:
    """(volume name, error) of every volume that cannot be set up now."""
    namespace = pod["metadata"].get("namespace", "")
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        error = volume_error(store, namespace, volume)
        if error:
            out.append((volume.get("name", ""), error))
    return out


def timeout_message(pod: Obj, failing: list[str]) -> str:
    """The kubelet's message once mounting has waited for two minutes."""
    every = " ".join(v.get("name", "") for v in (pod.get("spec") or {}).get("volumes") or [])
    return (
        f"Unable to attach or mount volumes: unmounted volumes=[{' '.join(failing)}], "
        f"unattached volumes=[{every}], failed to process volumes=[]: timed out waiting for the condition"
    )
