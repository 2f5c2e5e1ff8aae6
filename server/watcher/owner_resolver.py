"""Which workload a pod belongs to: Pod -> ReplicaSet -> Deployment, Pod -> Job -> CronJob, and so on.

Incidents target workloads, not pods. The pod's own controller reference names the ReplicaSet or
Job; one more hop needs that object, read through the API and cached by uid (a ReplicaSet's owner
never changes, so the cache never goes stale, only full).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from agent.domain import WorkloadRef
from tools.kubernetes.client import KubeClient, NotFound
from tools.kubernetes.objects import controller_of, read_object
from tools.result import ToolFailure

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# Reads one namespaced object (kind, namespace, name); None when it does not exist.
Reader = Callable[[str, str, str], Obj | None]

_INTERMEDIATE = {"ReplicaSet": "Deployment", "Job": "CronJob"}  # kind -> the kind that may own it
_HASH_LABEL = "pod-template-hash"


def kube_reader(kube: KubeClient) -> Reader:
    """A `Reader` over the Kubernetes tools' client (404 -> None; other failures raise `ToolFailure`)."""

    def read(kind: str, namespace: str, name: str) -> Obj | None:
        try:
            return read_object(kube, kind, namespace, name)
        except NotFound:
            return None

    return read


class OwnerResolver:
    """Resolves pods to their top-level workload, caching intermediate owners (LRU, `max_entries`)."""

    def __init__(self, read: Reader, max_entries: int = 1024) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self._read = read
        self._max = max_entries
        self._cache: OrderedDict[str, WorkloadRef] = OrderedDict()
        self._lock = threading.Lock()

    def workload_of(self, pod: Mapping[str, Any]) -> WorkloadRef | None:
        """The workload that owns the pod (the pod itself when bare); None for an unnamed object."""
        metadata = meta if isinstance(meta := pod.get("metadata"), Mapping) else {}
        namespace, name = metadata.get("namespace"), metadata.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
            return None
        ref = controller_of(pod)
        if ref is None or not ref.get("kind") or not ref.get("name"):
            return WorkloadRef(namespace=namespace, kind="Pod", name=name)
        kind, owner = str(ref["kind"]), str(ref["name"])
        if kind not in _INTERMEDIATE:
            return WorkloadRef(namespace=namespace, kind=kind, name=owner)
        uid = str(ref.get("uid") or "")
        cached = self._cached(uid)
        if cached is not None:
            return cached
        resolved = self._resolve(namespace, kind, owner, uid)
        if resolved is None:
            return self._fallback(pod, namespace, kind, owner)
        if uid:
            self._remember(uid, resolved)
        return resolved

    def _resolve(self, namespace: str, kind: str, name: str, uid: str) -> WorkloadRef | None:
        try:
            obj = self._read(kind, namespace, name)
        except ToolFailure as exc:
            log.warning("cannot read %s %s/%s to find its owner: %s", kind, namespace, name, exc)
            return None
        if obj is None:
            return None
        if uid and (obj.get("metadata") or {}).get("uid") not in (None, uid):
            return None  # same name, different object: the pod's owner is gone
        parent = controller_of(obj)
        if parent is not None and parent.get("kind") == _INTERMEDIATE[kind] and parent.get("name"):
            return WorkloadRef(namespace=namespace, kind=str(parent["kind"]), name=str(parent["name"]))
        return WorkloadRef(namespace=namespace, kind=kind, name=name)

    @staticmethod
    def _fallback(pod: Mapping[str, Any], namespace: str, kind: str, name: str) -> WorkloadRef:
        """Without the ReplicaSet, Kubernetes' own naming (`<deployment>-<pod-template-hash>`) still tells."""
        labels = (pod.get("metadata") or {}).get("labels") or {}
        template_hash = labels.get(_HASH_LABEL) if isinstance(labels, Mapping) else None
        if kind == "ReplicaSet" and isinstance(template_hash, str) and name.endswith(f"-{template_hash}"):
            return WorkloadRef(namespace=namespace, kind="Deployment", name=name[: -len(template_hash) - 1])
        return WorkloadRef(namespace=namespace, kind=kind, name=name)

    def _cached(self, uid: str) -> WorkloadRef | None:
        if not uid:
            return None
        with self._lock:
            found = self._cache.get(uid)
            if found is not None:
                self._cache.move_to_end(uid)
            return found

    def _remember(self, uid: str, ref: WorkloadRef) -> None:
        with self._lock:
            self._cache[uid] = ref
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._cache)
