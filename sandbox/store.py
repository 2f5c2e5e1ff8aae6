"""The sandbox's object store: what etcd plus the generic registry are to a real API server.

Thread-safe; every write bumps one global resourceVersion, like etcd's revision. Watchers get
ordered events through a callback; a bounded history lets a watch resume from a recent
resourceVersion and answers 410 Gone when the version is older than the history holds.

Stored objects are never mutated in place: writes store a fresh copy, so readers may hold a
reference (`copy=False`) for serialisation without a lock.
"""

from __future__ import annotations

import itertools
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

Obj = dict[str, Any]
_NO_STATUS: Any = object()  # a /status write whose body has no .status


def clone(obj: Any) -> Any:
    """A deep copy of a JSON-shaped value (faster than copy.deepcopy for API objects)."""
    return orjson.loads(orjson.dumps(obj))


def now_rfc3339(clock: Callable[[], datetime] | None = None) -> str:
    """Kubernetes' timestamp format (second precision, Z suffix)."""
    return _rfc3339(clock() if clock else datetime.now(UTC))


@lru_cache(maxsize=1024)
def _rfc3339(moment: datetime) -> str:
    # Cached: simulated time stands still while a step stamps many objects and events. Equal
    # instants give the same string (a naive datetime never equals an aware one).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ResourceType:
    """One REST resource: where it lives and what it is called."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    singular: str = ""
    subresources: tuple[str, ...] = ()  # "status", "scale", "log"
    verbs: tuple[str, ...] = (
        "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch",
    )  # fmt: skip
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        """`v1` for the core group, `group/version` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """The store key: `group/plural` (`/pods`, `apps/deployments`)."""
        return f"{self.group}/{self.plural}"

    @property
    def list_kind(self) -> str:
        """The kind of this resource's list, e.g. `PodList`."""
        return f"{self.kind}List"


class ApiError(Exception):
    """An error the API server answers with a `Status` object."""

    def __init__(self, code: int, reason: str, message: str, details: Obj | None = None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> Obj:
        """The `meta/v1 Status` body a real API server would send."""
        body: Obj = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def not_found(rt: ResourceType, name: str) -> ApiError:
    """404 in the exact words of a real API server."""
    res = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return ApiError(
        404, "NotFound", f'{res} "{name}" not found', {"name": name, "group": rt.group, "kind": rt.plural}
    )


def already_exists(rt: ResourceType, name: str) -> ApiError:
    """409 AlreadyExists."""
    res = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return ApiError(
        409,
        "AlreadyExists",
        f'{res} "{name}" already exists',
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def conflict(rt: ResourceType, name: str) -> ApiError:
    """409 Conflict on a stale resourceVersion, worded like kube-apiserver."""
    res = f"{rt.plural}.{rt.group}" if rt.group else rt.plural
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {res} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": name, "group": rt.group, "kind": rt.plural},
    )


def gone(rv: int, oldest: int) -> ApiError:
    """410 Gone for a watch from a resourceVersion older than the history."""
    return ApiError(410, "Expired", f"too old resource version: {rv} ({oldest})")


@dataclass(frozen=True)
class WatchEvent:
    """One change: ADDED, MODIFIED or DELETED, with the object as stored after the change."""

    type: str
    key: str
    namespace: str
    obj: Obj
    rv: int


Listener = Callable[[WatchEvent], None]


@dataclass
class _Subscription:
    key: str | None
    namespace: str | None
    callback: Listener
    id: int = field(default=0)


class Store:
    """In-memory, versioned, watchable object store keyed by (resource key, namespace, name)."""

    def __init__(
        self,
        history: int = 20_000,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """`clock` stamps creationTimestamp; `rng` (seeded) makes uids and generated names repeatable."""
        self._lock = threading.RLock()
        self._rng = rng
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._rv = 0
        self._history: deque[WatchEvent] = deque(maxlen=history)
        self._subs: dict[int, _Subscription] = {}
        self._sub_ids = itertools.count(1)
        self._clock = clock

    def new_uid(self) -> str:
        """A fresh uid (seeded when the store has an rng)."""
        if self._rng is None:
            return str(uuid.uuid4())
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def now(self) -> datetime:
        """The store's clock (simulated time in the sandbox), aware UTC."""
        return self._clock() if self._clock else datetime.now(UTC)

    # --- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out."""
        with self._lock:
            return self._rv

    def get(self, rt: ResourceType, namespace: str, name: str, copy: bool = True) -> Obj:
        """The object, or ApiError 404."""
        with self._lock:
            obj = self._objects.get(rt.key, {}).get((namespace if rt.namespaced else "", name))
        if obj is None:
            raise not_found(rt, name)
        return clone(obj) if copy else obj

    def find(self, rt: ResourceType, namespace: str, name: str, copy: bool = True) -> Obj | None:
        """The object, or None."""
        try:
            return self.get(rt, namespace, name, copy=copy)
        except ApiError:
            return None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        predicate: Callable[[Obj], bool] | None = None,
        copy: bool = True,
    ) -> tuple[list[Obj], int]:
        """Objects (in one namespace, or all when None), sorted by namespace/name, and the list's RV."""
        with self._lock:
            bucket = self._objects.get(rt.key, {})
            items = [obj for (ns, _), obj in sorted(bucket.items()) if namespace is None or ns == namespace]
            rv = self._rv
        if predicate is not None:
            items = [o for o in items if predicate(o)]
        return ([clone(o) for o in items] if copy else items), rv

    def keys(self) -> Iterable[str]:
        """The resource keys that hold at least one object."""
        with self._lock:
            return [k for k, v in self._objects.items() if v]

    # --- writes ------------------------------------------------------------------------------

    def create(self, rt: ResourceType, obj: Obj, dry_run: bool = False, uid: str | None = None) -> Obj:
        """Store a new object; sets uid (`uid` when the caller allotted one), resourceVersion,
        creationTimestamp, generation."""
        obj = clone(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + self.new_uid().replace("-", "")[:5]
        name = meta.get("name")
        if not name:
            raise ApiError(
                422,
                "Invalid",
                f"{rt.kind} is invalid: metadata.name: Required value: name or generateName is required",
            )
        ns = meta.get("namespace", "") if rt.namespaced else ""
        if rt.namespaced and not ns:
            raise ApiError(400, "BadRequest", "the namespace of the object must be set")
        if not rt.namespaced:
            meta.pop("namespace", None)
        obj["apiVersion"] = rt.api_version
        obj["kind"] = rt.kind
        with self._lock:
            bucket = self._objects.setdefault(rt.key, {})
            if (ns, name) in bucket:
                raise already_exists(rt, name)
            meta["uid"] = uid or self.new_uid()
            meta["creationTimestamp"] = now_rfc3339(self._clock)
            meta["generation"] = 1
            meta.pop("deletionTimestamp", None)
            if dry_run:
                meta["resourceVersion"] = str(self._rv)
                return obj
            self._rv += 1
            meta["resourceVersion"] = str(self._rv)
            bucket[(ns, name)] = obj
            self._emit(WatchEvent("ADDED", rt.key, ns, obj, self._rv))
        return clone(obj)

    def update(
        self, rt: ResourceType, obj: Obj, dry_run: bool = False, status_only: bool = False, copy: bool = True
    ) -> Obj:
        """Replace an object. A resourceVersion in the body must match (else 409 Conflict).

        `status_only` keeps the stored spec and metadata and takes only `.status` (the /status
        subresource); otherwise a changed spec bumps metadata.generation and .status is kept.
        `copy=False` returns the stored object itself (read-only, as `get(copy=False)`): for the many
        writers that do not look at what they wrote.
        """
        if status_only:
            # Only .status is taken from the body: copying the rest (a pod's spec) would be wasted.
            meta = obj.get("metadata", {})
            status = clone(obj["status"]) if "status" in obj else _NO_STATUS
        else:
            obj = clone(obj)
            meta = obj.setdefault("metadata", {})
        name = meta.get("name", "")
        ns = meta.get("namespace", "") if rt.namespaced else ""
        with self._lock:
            bucket = self._objects.setdefault(rt.key, {})
            current = bucket.get((ns, name))
            if current is None:
                raise not_found(rt, name)
            sent_rv = meta.get("resourceVersion")
            if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
                raise conflict(rt, name)
            if status_only:
                if status is _NO_STATUS:
                    new = clone(current)
                else:  # the old status is replaced: not copied (its key keeps its place)
                    new = clone({k: (None if k == "status" else v) for k, v in current.items()})
                    new["status"] = status
            else:
                new = obj
                for immutable in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
                    if immutable in current["metadata"]:
                        meta[immutable] = current["metadata"][immutable]
                    else:
                        meta.pop(immutable, None)
                if "status" in current and _has_status_subresource(rt):
                    new["status"] = current["status"]
                if new.get("spec") != current.get("spec"):
                    meta["generation"] = current["metadata"].get("generation", 1) + 1
            new["apiVersion"] = rt.api_version
            new["kind"] = rt.kind
            if new == current:  # no-op writes do not bump the resourceVersion, like the real one
                return clone(current) if copy else current
            if dry_run:
                return new
            self._rv += 1
            new["metadata"]["resourceVersion"] = str(self._rv)
            bucket[(ns, name)] = new
            self._emit(WatchEvent("MODIFIED", rt.key, ns, new, self._rv))
        return clone(new) if copy else new

    def delete(self, rt: ResourceType, namespace: str, name: str, dry_run: bool = False) -> Obj:
        """Remove an object and return it as it was last stored."""
        ns = namespace if rt.namespaced else ""
        with self._lock:
            bucket = self._objects.setdefault(rt.key, {})
            current = bucket.get((ns, name))
            if current is None:
                raise not_found(rt, name)
            if dry_run:
                return clone(current)
            del bucket[(ns, name)]
            self._rv += 1
            gone_obj = clone(current)
            gone_obj["metadata"]["resourceVersion"] = str(self._rv)
            self._emit(WatchEvent("DELETED", rt.key, ns, gone_obj, self._rv))
        return clone(gone_obj)

    # --- watch -------------------------------------------------------------------------------

    def subscribe(
        self,
        callback: Listener,
        key: str | None = None,
        namespace: str | None = None,
        since_rv: int | None = None,
    ) -> int:
        """Deliver every future event (and, with `since_rv`, the history after it) to `callback`.

        Delivery happens under the store lock, in resourceVersion order: callbacks must be quick
        and must not write to the store (hand events to a queue instead). Raises 410 Gone when
        `since_rv` is older than the history. Returns an id for `unsubscribe`.
        """
        with self._lock:
            if since_rv is not None and since_rv < self._rv:
                oldest = self._history[0].rv if self._history else self._rv + 1
                if since_rv < oldest - 1:
                    raise gone(since_rv, oldest)
                for event in self._history:
                    if event.rv > since_rv and _matches(event, key, namespace):
                        callback(event)
            sub = _Subscription(key, namespace, callback, next(self._sub_ids))
            self._subs[sub.id] = sub
            return sub.id

    def unsubscribe(self, sub_id: int) -> None:
        """Stop delivering to a subscription (unknown ids are ignored)."""
        with self._lock:
            self._subs.pop(sub_id, None)

    def _emit(self, event: WatchEvent) -> None:
        self._history.append(event)
        for sub in list(self._subs.values()):
            if _matches(event, sub.key, sub.namespace):
                sub.callback(event)


def _matches(event: WatchEvent, key: str | None, namespace: str | None) -> bool:
    return (key is None or event.key == key) and (namespace is None or event.namespace == namespace)


def _has_status_subresource(rt: ResourceType) -> bool:
    return "status" in rt.subresources
