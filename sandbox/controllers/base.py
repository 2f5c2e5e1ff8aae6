"""What every controller shares: the event queue, timers, an owner index, and conflict-safe writes."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.podtemplate import create_pod
from sandbox.resources import (
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    JOBS,
    PODS,
    REPLICASETS,
    STATEFULSETS,
    Registry,
)
from sandbox.store import ApiError, Obj, ResourceType, Store, WatchEvent, clone

Key = tuple[str, str]  # (namespace, name)
_OWNER_KINDS = frozenset(
    rt.key for rt in (REPLICASETS, DEPLOYMENTS, JOBS, CRONJOBS, STATEFULSETS, DAEMONSETS)
)


def key_of(obj: Obj) -> Key:
    """(namespace, name) of an object."""
    meta = obj.get("metadata", {})
    return meta.get("namespace", ""), meta.get("name", "")


def controller_uid(obj: Obj) -> str | None:
    """The uid of the object's controlling owner, if any."""
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def update_with_retry(
    store: Store,
    rt: ResourceType,
    key: Key,
    mutate: Callable[[Obj], bool],
    status_only: bool = False,
    attempts: int = 5,
    copy: bool = True,
) -> Obj | None:
    """Read, mutate a clone, write back with its resourceVersion; retry on 409 like a real controller.

    `mutate` returns False when there is nothing to change. Returns the stored object (`copy=False`:
    the store's own, read-only), or None when the object is gone (or there was nothing to do).
    """
    for _ in range(attempts):
        current = store.find(rt, key[0], key[1])
        if current is None:
            return None
        if not mutate(current):
            return None
        try:
            return store.update(rt, current, status_only=status_only, copy=copy)
        except ApiError as err:
            if err.code == 404:
                return None
            if err.code != 409:
                raise
    return None


_STATUS_WRITE_META = ("name", "namespace", "resourceVersion")  # what a /status write is addressed by


def put_status(store: Store, rt: ResourceType, key: Key, status: Obj, uid: str | None = None) -> None:
    """Write `status` to the object at `key` unless it already has it (given `uid`: only to that
    incarnation of the object, not to one created again under the same name)."""

    # update_with_retry's read-mutate-write without its copies: the live object is only compared
    # (most calls change nothing) and a /status write takes nothing but the body's status.
    for _ in range(5):
        live = store.find(rt, key[0], key[1], copy=False)
        if live is None:
            return
        meta = live["metadata"]
        if (uid is not None and meta.get("uid") != uid) or live.get("status") == status:
            return
        body = {"metadata": {k: meta[k] for k in _STATUS_WRITE_META if k in meta}, "status": status}
        try:
            store.update(rt, body, status_only=True, copy=False)
            return
        except ApiError as err:
            if err.code == 404:
                return
            if err.code != 409:
                raise


class Timers:
    """Wake-ups at simulated times, at most one pending per (controller, key): the earliest wins."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, Hashable]] = []
        self._pending: dict[tuple[str, Hashable], float] = {}
        self._seq = itertools.count()

    def at(self, when: float, owner: str, key: Hashable) -> None:
        """Wake `owner` for `key` at `when` (ignored if an earlier wake-up is already pending)."""
        slot = (owner, key)
        existing = self._pending.get(slot)
        if existing is not None and existing <= when:
            return
        self._pending[slot] = when
        heapq.heappush(self._heap, (when, next(self._seq), owner, key))

    def next_time(self) -> float | None:
        """When the earliest live wake-up is due."""
        while self._heap:
            when, _, owner, key = self._heap[0]
            if self._pending.get((owner, key)) == when:
                return when
            heapq.heappop(self._heap)  # superseded by an earlier one that already fired
        return None

    def pop_due(self, now: float) -> list[tuple[str, Hashable]]:
        """Every wake-up due at or before `now`, in time order."""
        due = []
        while self._heap and self._heap[0][0] <= now:
            when, _, owner, key = heapq.heappop(self._heap)
            if self._pending.get((owner, key)) == when:
                del self._pending[(owner, key)]
                due.append((owner, key))
        return due

    def __len__(self) -> int:
        return len(self._pending)


@dataclass
class OwnerIndex:
    """Pods by controlling ReplicaSet and ReplicaSets by controlling Deployment (uids), from watch events."""

    children: dict[str, dict[Key, None]] = field(default_factory=dict)
    owner_of: dict[Key, str] = field(default_factory=dict)

    def observe(self, key: Key, owner: str | None, deleted: bool) -> str | None:
        """Record an object's owner; returns the owner uid to notify (old or new), if any."""
        old = self.owner_of.get(key)
        if (deleted or owner != old) and old is not None:
            self.children.get(old, {}).pop(key, None)
            self.owner_of.pop(key, None)
        if not deleted and owner is not None:
            self.children.setdefault(owner, {})[key] = None
            self.owner_of[key] = owner
        return owner or old

    def of(self, owner_uid: str) -> list[Key]:
        """Keys of the objects `owner_uid` controls."""
        return list(self.children.get(owner_uid, {}))


@dataclass
class Cache:
    """Indexes the controllers share, kept current from the event queue (uid -> key lookups too)."""

    pods: OwnerIndex = field(default_factory=OwnerIndex)
    replicasets: OwnerIndex = field(default_factory=OwnerIndex)
    jobs: OwnerIndex = field(default_factory=OwnerIndex)  # Jobs by controlling CronJob
    uid_to_key: dict[tuple[str, str], Key] = field(default_factory=dict)

    def observe(self, event: WatchEvent) -> None:
        """Update the indexes for one watch event."""
        obj = event.obj
        key = key_of(obj)
        deleted = event.type == "DELETED"
        uid = obj.get("metadata", {}).get("uid", "")
        if event.key in _OWNER_KINDS:
            if deleted:
                self.uid_to_key.pop((event.key, uid), None)
            else:
                self.uid_to_key[(event.key, uid)] = key
        if event.key == PODS.key:
            self.pods.observe(key, controller_uid(obj), deleted)
        elif event.key == REPLICASETS.key:
            self.replicasets.observe(key, controller_uid(obj), deleted)
        elif event.key == JOBS.key:
            self.jobs.observe(key, controller_uid(obj), deleted)

    def key_for(self, rt: ResourceType, uid: str) -> Key | None:
        """The (namespace, name) of a controller (ReplicaSet, Deployment, Job, ...) by uid."""
        return self.uid_to_key.get((rt.key, uid))


class Controller:
    """A reconcile loop: `observe` events, `sync` dirty keys; wake-ups come from `Timers`."""

    name = "controller"

    def __init__(self) -> None:
        self._dirty: dict[Hashable, None] = {}

    def mark(self, key: Hashable) -> None:
        """Reconcile `key` at the next opportunity."""
        self._dirty[key] = None

    def take_dirty(self) -> list[Hashable]:
        """The keys to reconcile now, in the order they were marked."""
        keys = list(self._dirty)
        self._dirty.clear()
        return keys

    def observe(self, event: WatchEvent) -> None:
        """React to a change (mark keys dirty); must not write to the store."""

    def sync(self, key: Any) -> None:
        """Reconcile one key."""
        raise NotImplementedError


@dataclass
class EventQueue:
    """Watch events handed over from store callbacks (which run under the store lock)."""

    items: deque[WatchEvent] = field(default_factory=deque)

    def push(self, event: WatchEvent) -> None:
        """The store callback: just enqueue."""
        self.items.append(event)

    def drain(self) -> list[WatchEvent]:
        """Every queued event, oldest first."""
        out = []
        while self.items:
            out.append(self.items.popleft())
        return out


def copy_obj(obj: Obj) -> Obj:
    """A deep copy for mutation."""
    return clone(obj)


@dataclass(frozen=True)
class Wiring:
    """What the simulation hands its controllers: the store, the simulated clock, wake-ups, the event
    recorder, the shared owner indexes and the resource registry (one bundle, so no controller
    redeclares the same seven parameters)."""

    store: Store
    clock: Callable[[], float]
    timers: Timers
    recorder: EventRecorder
    cache: Cache
    registry: Registry


class WiredController(Controller):
    """A controller built from a `Wiring`, with the lookups every owner-based controller repeats."""

    def __init__(self, wiring: Wiring) -> None:
        super().__init__()
        self._store = wiring.store
        self._clock = wiring.clock
        self._timers = wiring.timers
        self._recorder = wiring.recorder
        self._cache = wiring.cache
        self._registry = wiring.registry

    def live(self, rt: ResourceType, key: Key, copy: bool = False) -> Obj | None:
        """The object at `key`, or None when it is gone or being deleted (nothing to reconcile)."""
        obj = self._store.find(rt, key[0], key[1], copy=copy)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return None
        return obj

    def create_owned_pod(self, owner: Obj, pod: Obj, source: Source) -> Obj:
        """Create `pod` for `owner` (generateName `<owner>-`) and index it as the owner's child, with the
        events a pod controller emits; ApiError (after a FailedCreate event) when admission refuses it."""
        try:
            created = create_pod(self._store, self._registry, pod, f"{owner['metadata']['name']}-")
        except ApiError as err:
            self._recorder.emit(owner, "Warning", "FailedCreate", f"Error creating: {err.message}", source)
            raise
        self._cache.pods.observe(key_of(created), owner["metadata"]["uid"], deleted=False)
        message = f"Created pod: {created['metadata']['name']}"
        self._recorder.emit(owner, "Normal", "SuccessfulCreate", message, source)
        return created

    def delete_owned(self, owner: Obj, rt: ResourceType, child: Obj, what: str, source: Source) -> None:
        """Delete `owner`'s `child` with a SuccessfulDelete event (`Deleted <what><name>`, worded as the
        real controller does); one already gone, or refused, is passed over (the next sync sees it)."""
        name = child["metadata"]["name"]
        try:
            self._store.delete(rt, owner["metadata"].get("namespace", ""), name)
        except ApiError:
            return
        self._recorder.emit(owner, "Normal", "SuccessfulDelete", f"Deleted {what}{name}", source)

    def mark_owner(self, obj: Obj, kind: str, rt: ResourceType) -> None:
        """Mark the controlling owner of `obj` when it is a `kind` (looked up by uid in the cache)."""
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("controller") and ref.get("kind") == kind:
                owner = self._cache.key_for(rt, ref.get("uid", ""))
                if owner:
                    self.mark(owner)


class OwnerController(WiredController):
    """A controller of one resource whose objects own `child` objects (a CronJob its Jobs, a
    StatefulSet its pods): a change to an owner (not its deletion) or to one of its children marks the
    owner, and `reconcile` gets each marked owner that is still live."""

    resource: ResourceType
    child: ResourceType = PODS

    def observe(self, event: WatchEvent) -> None:
        """An owner changed, or one of its children did."""
        if event.key == self.resource.key and event.type != "DELETED":
            self.mark(key_of(event.obj))
        elif event.key == self.child.key:
            self.mark_owner(event.obj, self.resource.kind, self.resource)

    def sync(self, key: Key) -> None:
        """Reconcile one owner, unless it is gone or being deleted."""
        owner = self.live(self.resource, key)
        if owner is not None:
            self.reconcile(owner, key)

    def reconcile(self, owner: Obj, key: Key) -> None:
        """Reconcile the live `owner` at `key`."""
        raise NotImplementedError
