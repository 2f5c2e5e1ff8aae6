"""Owner-reference garbage collection: when an owner goes, its dependents follow (background)."""

from __future__ import annotations

import queue
import threading

from sandbox.resources import Registry
from sandbox.store import ApiError, Store, WatchEvent


class GarbageCollector:
    """Deletes objects whose ownerReferences all point at deleted owners, cascading."""

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
        """Delete the dependents of one deleted owner; returns how many went."""
        deleted = 0
        for rt in self._registry.all():
            if namespace and not rt.namespaced:
                continue
            items, _ = self._store.list(rt, namespace or None, copy=False)
            for obj in items:
                refs = obj["metadata"].get("ownerReferences") or []
                if not refs or not any(r.get("uid") == owner_uid for r in refs):
                    continue
                alive = [r for r in refs if r.get("uid") != owner_uid and self._owner_exists(r, obj)]
                try:
                    if alive:
                        continue  # still owned by someone else
                    self._store.delete(rt, obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                    deleted += 1
                except ApiError:
                    continue  # deleted meanwhile
        return deleted

    def _owner_exists(self, ref: dict, dependent: dict) -> bool:
        group = ref.get("apiVersion", "v1").rpartition("/")[0]
        rt = self._registry.by_kind(group, ref.get("kind", ""))
        if rt is None:
            return False
        ns = dependent["metadata"].get("namespace", "") if rt.namespaced else ""
        owner = self._store.find(rt, ns, ref.get("name", ""), copy=False)
        return owner is not None and owner["metadata"].get("uid") == ref.get("uid")
