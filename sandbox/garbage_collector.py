"""Owner-reference garbage collection: when an owner goes, its dependents follow.

Three propagation policies, as in Kubernetes: Background (the collector thread deletes the
dependents after the owner is gone), Foreground (the dependents go first; here synchronously,
before the owner) and Orphan (the dependents stay, without the ownerReference).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from sandbox.resources import Registry
from sandbox.store import ApiError, ResourceType, Store, WatchEvent

Obj = dict[str, Any]
_RETRIES = 5


def dependents(
    store: Store, registry: Registry, owner_uid: str, namespace: str
) -> list[tuple[ResourceType, Obj]]:
    """Objects with an ownerReference to `owner_uid` (in `namespace`; anywhere for a cluster-scoped owner)."""
    found = []
    for rt in registry.all():
        if namespace and not rt.namespaced:
            continue
        items, _ = store.list(rt, namespace or None, copy=False)
        for obj in items:
            if any(r.get("uid") == owner_uid for r in obj["metadata"].get("ownerReferences") or []):
                found.append((rt, obj))
    return found


def orphan_dependents(store: Store, registry: Registry, owner_uid: str, namespace: str) -> int:
    """Drop the ownerReference to `owner_uid` from every dependent (propagationPolicy=Orphan)."""
    orphaned = 0
    for rt, obj in dependents(store, registry, owner_uid, namespace):
        meta = obj["metadata"]
        for _ in range(_RETRIES):
            current = store.find(rt, meta.get("namespace", ""), meta["name"])
            if current is None:
                break
            refs = current["metadata"].get("ownerReferences") or []
            kept = [r for r in refs if r.get("uid") != owner_uid]
            if len(kept) == len(refs):
                break
            if kept:
                current["metadata"]["ownerReferences"] = kept
            else:
                current["metadata"].pop("ownerReferences", None)
            try:
                store.update(rt, current)
            except ApiError as exc:
                if exc.code == 409:
                    continue  # a controller wrote it meanwhile: re-read and retry
                raise
            orphaned += 1
            break
    return orphaned


def delete_dependents(store: Store, registry: Registry, owner_uid: str, namespace: str) -> int:
    """Delete every dependent owned only by `owner_uid`, deepest first (propagationPolicy=Foreground)."""
    deleted = 0
    for rt, obj in dependents(store, registry, owner_uid, namespace):
        meta = obj["metadata"]
        if _other_live_owner(store, registry, obj, owner_uid):
            continue  # still owned by someone else
        deleted += delete_dependents(store, registry, meta.get("uid", ""), meta.get("namespace", ""))
        try:
            store.delete(rt, meta.get("namespace", ""), meta["name"])
            deleted += 1
        except ApiError:
            continue  # deleted meanwhile
    return deleted


def _other_live_owner(store: Store, registry: Registry, dependent: Obj, owner_uid: str) -> bool:
    refs = dependent["metadata"].get("ownerReferences") or []
    return any(r.get("uid") != owner_uid and _owner_exists(store, registry, r, dependent) for r in refs)


def _owner_exists(store: Store, registry: Registry, ref: Obj, dependent: Obj) -> bool:
    group = ref.get("apiVersion", "v1").rpartition("/")[0]
    rt = registry.by_kind(group, ref.get("kind", ""))
    if rt is None:
        return False
    ns = dependent["metadata"].get("namespace", "") if rt.namespaced else ""
    owner = store.find(rt, ns, ref.get("name", ""), copy=False)
    return owner is not None and owner["metadata"].get("uid") == ref.get("uid")


class GarbageCollector:
    """Deletes objects whose ownerReferences all point at deleted owners, cascading (Background)."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry
        self._queue: queue.SimpleQueue[tuple[str, str] | None] = queue.SimpleQueue()
        self._sub: int | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Subscribe to deletions and collect in a background thread."""
        self._sub = self._store.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="sandbox-gc", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop collecting (safe to call twice)."""
        if self._sub is not None:
            self._store.unsubscribe(self._sub)
            self._sub = None
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=5)
            self._thread = None

    def _on_event(self, event: WatchEvent) -> None:
        # Runs under the store lock: only hand the uid over.
        if event.type == "DELETED":
            self._queue.put((event.obj["metadata"].get("uid", ""), event.namespace))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self.collect(*item)

    def collect(self, owner_uid: str, namespace: str) -> int:
        """Delete the dependents of one deleted owner; returns how many went.

        Their own dependents follow when their deletions come through the queue.
        """
        deleted = 0
        for rt, obj in dependents(self._store, self._registry, owner_uid, namespace):
            if _other_live_owner(self._store, self._registry, obj, owner_uid):
                continue
            try:
                self._store.delete(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                deleted += 1
            except ApiError:
                continue  # deleted meanwhile
        return deleted
