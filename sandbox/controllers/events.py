"""An event recorder like client-go's: core/v1 Events, repeats aggregated by bumping `count`."""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from sandbox.clock import rfc3339
from sandbox.resources import EVENTS
from sandbox.store import ApiError, Obj, Store

EVENT_TTL_SECONDS = 3600.0  # kube-apiserver's default --event-ttl


@dataclass(frozen=True)
class Source:
    """Who reports: component (kubelet, default-scheduler, ...) and host for the kubelet."""

    component: str
    host: str = ""


def reference(obj: Obj, field_path: str = "") -> Obj:
    """An ObjectReference to `obj` (what `involvedObject` holds)."""
    meta = obj.get("metadata", {})
    ref = {
        "kind": obj.get("kind", ""),
        "namespace": meta.get("namespace", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
        "apiVersion": obj.get("apiVersion", ""),
        "resourceVersion": meta.get("resourceVersion", ""),
    }
    if not ref["namespace"]:
        del ref["namespace"]
    if field_path:
        ref["fieldPath"] = field_path
    return ref


class EventRecorder:
    """Writes Events; an identical (object, reason, message, source) repeat bumps count/lastTimestamp."""

    def __init__(self, store: Store, clock: Callable[[], float]) -> None:
        self._store = store
        self._clock = clock
        self._seq = itertools.count()
        self._seen: dict[tuple[str, ...], tuple[str, str, float]] = {}  # key -> (ns, name, last time)
        # (type, reason, object name, message) of recent emits, newest last: for tests and debugging.
        self.recorded: deque[tuple[str, str, str, str]] = deque(maxlen=10_000)

    def emit(
        self, obj: Obj, type_: str, reason: str, message: str, source: Source, field_path: str = ""
    ) -> None:
        """Record one occurrence of an event about `obj`."""
        now = self._clock()
        ref = reference(obj, field_path)
        namespace = ref.get("namespace") or "default"
        agg = (
            namespace, ref["kind"], ref["name"], ref["uid"], field_path, type_, reason, message,
            source.component, source.host,
        )  # fmt: skip
        self.recorded.append((type_, reason, ref["name"], message))
        seen = self._seen.get(agg)
        if seen is not None and now - seen[2] < EVENT_TTL_SECONDS:
            ns, name, _ = seen
            if self._bump(ns, name, now):
                self._seen[agg] = (ns, name, now)
                return
        # Named like client-go's recorder: object name + "." + hex nanoseconds (made unique).
        name = f"{ref['name']}.{int(now * 1e9) + next(self._seq):x}"
        ts = rfc3339(now)
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": ref,
            "reason": reason,
            "message": message,
            "source": {"component": source.component, **({"host": source.host} if source.host else {})},
            "firstTimestamp": ts,
            "lastTimestamp": ts,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": source.component,
            "reportingInstance": source.host or source.component,
        }
        try:
            self._store.create(EVENTS, event)
        except ApiError:
            return
        self._seen[agg] = (namespace, name, now)

    def _bump(self, namespace: str, name: str, now: float) -> bool:
        for _ in range(3):
            current = self._store.find(EVENTS, namespace, name)
            if current is None:
                return False
            current["count"] = int(current.get("count") or 1) + 1
            current["lastTimestamp"] = rfc3339(now)
            try:
                self._store.update(EVENTS, current)
                return True
            except ApiError as err:
                if err.code != 409:
                    return False
        return False

    def expire(self) -> None:
        """Delete events not seen for the TTL (what etcd's lease does for the real API server)."""
        now = self._clock()
        for agg, (ns, name, last) in list(self._seen.items()):
            if now - last >= EVENT_TTL_SECONDS:
                del self._seen[agg]
                with contextlib.suppress(ApiError):
                    self._store.delete(EVENTS, ns, name)
