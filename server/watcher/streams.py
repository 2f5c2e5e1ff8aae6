"""Watch streams: list once, then watch from the list's resourceVersion, forever, one thread per stream.

Each `ResourceStream` runs the informer loop of client-go, with the official client's `Watch`:

- list, hand every object to the handler, remember the list's resourceVersion;
- watch from that version with bookmarks and a server-side timeout; every event (bookmarks
  included) advances the version, so a stream that ends (timeout, dropped connection) resumes
  where it stopped instead of listing again;
- `410 Gone` (as an HTTP status or as an ERROR event) means the version is too old: list again;
- connection errors and other API errors: reconnect after an exponential back-off with jitter.

A stream for a custom resource first asks discovery whether the resource is served; when it is
not (Argo CD or Flux not installed), the stream logs that once and stays off.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, cast

import urllib3
from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)

Obj = dict[str, Any]
GONE = 410


class Backoff:
    """Exponential back-off with jitter: `initial * factor**n`, capped at `maximum`, minus up to `jitter`."""

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1 or not 0 <= jitter < 1:
            raise ValueError("need 0 < initial <= maximum, factor >= 1 and 0 <= jitter < 1")
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self._rng = rng or random.Random()
        self._attempt = 0

    def next(self) -> float:
        """The next delay in seconds (the jitter spreads reconnecting clients apart)."""
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        self._attempt += 1
        return base * (1 - self.jitter * self._rng.random())

    def reset(self) -> None:
        """Back to the initial delay after a success."""
        self._attempt = 0


@dataclass(frozen=True)
class Resource:
    """A custom resource a stream needs discovery to confirm before it starts."""

    group: str
    version: str
    plural: str

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}/{self.version}"


@dataclass(frozen=True)
class StreamSpec:
    """What one stream lists and watches: a generated list function and its positional arguments."""

    name: str
    kind: str
    list_fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    requires: Resource | None = None


class StreamHandler(Protocol):
    """Receives what streams see; called on the stream's thread, so it must not block for long."""

    def on_list(self, spec: StreamSpec, items: list[Obj]) -> None:
        """A full listing (first start, or after 410): every object that exists now."""

    def on_event(self, spec: StreamSpec, event_type: str, obj: Obj) -> None:
        """One ADDED, MODIFIED or DELETED object."""


@dataclass
class StreamState:
    """What a stream has been through, for status pages and tests."""

    name: str
    available: bool | None = None  # None until discovery answered; False when the CRD is missing
    resource_version: str | None = None
    lists: int = 0
    watches: int = 0
    gone: int = 0
    errors: int = 0
    events: int = 0
    last_error: str | None = None


def resource_served(api: k8s.ApiClient, resource: Resource, timeout: float = 10.0) -> bool:
    """Whether discovery lists the resource under its group/version (404 for the group: no)."""
    try:
        # _preload_content=False answers the unread urllib3 response, not the model the stubs name.
        response = cast(
            urllib3.BaseHTTPResponse,
            k8s.CustomObjectsApi(api).get_api_resources(
                resource.group, resource.version, _preload_content=False, _request_timeout=timeout
            ),
        )
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    body = json.loads(response.data)
    return any(r.get("name") == resource.plural for r in body.get("resources") or [])


def _resource_version(obj: Any) -> str | None:
    metadata = obj.get("metadata") if isinstance(obj, dict) else None
    value = metadata.get("resourceVersion") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


class ResourceStream:
    """One list-then-watch loop on its own daemon thread; `stop()` ends it promptly."""

    def __init__(
        self,
        spec: StreamSpec,
        handler: StreamHandler,
        api: k8s.ApiClient,
        *,
        timeout_seconds: int = 300,
        connect_timeout: float = 5.0,
        backoff: Backoff | None = None,
    ) -> None:
        if timeout_seconds < 1 or connect_timeout <= 0:
            raise ValueError("timeout_seconds must be >= 1 and connect_timeout > 0")
        self.spec = spec
        self._handler = handler
        self._api = api
        self._timeout = int(timeout_seconds)
        self._connect = connect_timeout
        self._backoff = backoff or Backoff()
        self._stopping = threading.Event()
        self._watch: k8s_watch.Watch | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state = StreamState(spec.name)

    # lifecycle

    def start(self) -> None:
        """Start the stream's thread."""
        if self._thread is not None:
            raise RuntimeError(f"stream {self.spec.name} already started")
        self._thread = threading.Thread(target=self._run, name=f"watch-{self.spec.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Ask the stream to end and unblock a pending read."""
        self._stopping.set()
        with self._lock:
            watch = self._watch
        if watch is not None:
            watch.stop()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # the loop

    def _run(self) -> None:
        if self.spec.requires is not None and not self._discover(self.spec.requires):
            return
        while not self._stopping.is_set():
            try:
                if self.state.resource_version is None:
                    self._list()
                self._watch_once()
                self._backoff.reset()
            except ApiException as exc:
                if exc.status == GONE:
                    self.state.gone += 1
                    log.info("stream %s: resourceVersion %s is gone; listing again",
                             self.spec.name, self.state.resource_version)  # fmt: skip
                    self.state.resource_version = None
                    continue
                self._failed(f"HTTP {exc.status}: {exc.reason}")
            except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                self._failed(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # never let a stream die silently: log, back off, carry on
                log.exception("stream %s: unexpected failure", self.spec.name)
                self._failed(f"{type(exc).__name__}: {exc}")

    def _failed(self, message: str) -> None:
        if self._stopping.is_set():
            return
        self.state.errors += 1
        self.state.last_error = message
        delay = self._backoff.next()
        log.warning("stream %s: %s; reconnecting in %.1fs", self.spec.name, message, delay)
        self._stopping.wait(delay)

    def _discover(self, resource: Resource) -> bool:
        while not self._stopping.is_set():
            try:
                served = resource_served(self._api, resource, timeout=self._connect + 10)
            except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
                self._failed(f"discovery of {resource}: {type(exc).__name__}: {exc}")
                continue
            self.state.available = served
            if not served:
                log.info("stream %s: %s is not served by this cluster; stream off", self.spec.name, resource)
            self._backoff.reset()
            return served
        return False

    def _list(self) -> None:
        response = self.spec.list_fn(
            *self.spec.args, _preload_content=False, _request_timeout=(self._connect, self._timeout)
        )
        body = json.loads(response.data)
        if not isinstance(body, dict):
            raise ValueError(f"list {self.spec.name}: expected a JSON object")
        items = [item for item in body.get("items") or [] if isinstance(item, dict)]
        for item in items:
            item.setdefault("kind", self.spec.kind)  # list items come without kind
        version = _resource_version(body)
        if version is None:
            raise ValueError(f"list {self.spec.name}: the answer carries no resourceVersion")
        self.state.lists += 1
        self.state.available = True
        self._handler.on_list(self.spec, items)
        self.state.resource_version = version

    def _watch_once(self) -> None:
        watch = k8s_watch.Watch(return_type="object")  # "object": events keep the raw dicts
        with self._lock:
            if self._stopping.is_set():
                return
            self._watch = watch
        self.state.watches += 1
        try:
            stream = watch.stream(
                self.spec.list_fn,
                *self.spec.args,
                resource_version=self.state.resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=self._timeout,
                # the read timeout outlasts the server's, so a silently dead connection is noticed
                _request_timeout=(self._connect, self._timeout + 15),
            )
            for event in stream:
                if self._stopping.is_set():
                    break
                self._deliver(event)
        finally:
            with self._lock:
                self._watch = None

    def _deliver(self, event: Any) -> None:
        if not isinstance(event, dict):
            return
        event_type, obj = event.get("type"), event.get("raw_object")
        if not isinstance(obj, dict):
            return
        version = _resource_version(obj)
        if version is not None:
            self.state.resource_version = version
        if event_type not in ("ADDED", "MODIFIED", "DELETED"):
            return  # BOOKMARK: only the version matters
        obj.setdefault("kind", self.spec.kind)
        self.state.events += 1
        try:
            self._handler.on_event(self.spec, event_type, obj)
        except Exception:  # a handler bug must not cost the stream its place
            log.exception("stream %s: handler failed on %s", self.spec.name, event_type)
