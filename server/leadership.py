"""Leader election over a `coordination.k8s.io/v1` Lease, with the Kubernetes client's `leaderelection`.

The client's election is synchronous and thread-based: `LeaderElection.run()` blocks while it
competes for the Lease and, once it holds it, while it renews it; it has no way to be stopped.
`Leadership` runs it on its own daemon thread and makes it stoppable through the lock: after
`stop()`, every call the election makes to the Lease raises `_Stopped`, which unwinds `run()`;
the leader then hands the Lease back (empties its holder) so another replica takes over at its
next retry instead of waiting out the lease.

`on_started` runs when this replica becomes the leader, `on_stopped` when it stops being one
(it lost the Lease, or it shuts down); both run on the election's threads and must return
promptly. The asyncio app never blocks on any of this: it only reads `is_leader`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client as k8s
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from agent.config import HASettings

log = logging.getLogger(__name__)

_T = TypeVar("_T")


def replica_identity(settings: HASettings) -> str:
    """This replica's name in the Lease and on its runs: the setting, else host name and a random id.

    The random part keeps a restarted pod (same host name) from being mistaken for its previous
    life, whose runs it must adopt rather than believe it is still driving.
    """
    return settings.identity or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class _Stopped(Exception):
    """The election was stopped: unwind `LeaderElection.run()`."""


class _StoppableLease:
    """A `LeaseLock` that refuses every call once stopped, and reports transport errors as failures."""

    def __init__(self, lock: LeaseLock, stopped: threading.Event) -> None:
        self._lock = lock
        self._stopped = stopped
        self.name, self.namespace, self.identity = lock.name, lock.namespace, lock.identity

    def _check(self) -> None:
        if self._stopped.is_set():
            raise _Stopped

    def _attempt(
        self, doing: str, name: str, namespace: str, call: Callable[[], _T], failed: Callable[[Exception], _T]
    ) -> _T:
        """`call()`, unless stopped; an error (the API server unreachable) is logged and answered as
        `failed(exc)`: a failed attempt, which the election retries next period."""
        self._check()
        try:
            return call()
        except Exception as exc:
            log.warning("%s lease %s/%s failed: %s", doing, namespace, name, exc)
            return failed(exc)

    def get(self, name: str, namespace: str) -> tuple[bool, Any]:
        return self._attempt(
            "reading", name, namespace, lambda: self._lock.get(name, namespace), lambda exc: (False, exc)
        )

    def create(self, name: str, namespace: str, election_record: Any) -> bool:
        return self._attempt(
            "creating",
            name,
            namespace,
            lambda: self._lock.create(name, namespace, election_record),
            lambda _: False,
        )

    def update(self, name: str, namespace: str, updated_record: Any) -> bool:
        return self._attempt(
            "renewing",
            name,
            namespace,
            lambda: self._lock.update(name, namespace, updated_record),
            lambda _: False,
        )


class Leadership:
    """Compete for the Lease on a thread; `on_started`/`on_stopped` as leadership comes and goes."""

    def __init__(
        self,
        api: k8s.ApiClient,
        settings: HASettings,
        identity: str,
        on_started: Callable[[], None],
        on_stopped: Callable[[], None],
    ) -> None:
        self.identity = identity
        self._settings = settings
        self._coordination = k8s.CoordinationV1Api(api)
        self._on_started = on_started
        self._on_stopped = on_stopped
        self._stopped = threading.Event()
        self._leading = threading.Event()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        """Whether this replica holds the Lease now."""
        return self._leading.is_set()

    def start(self) -> Leadership:
        """Start competing (returns at once)."""
        self._thread = threading.Thread(target=self._compete, name="paramedic-leader-election", daemon=True)
        self._thread.start()
        return self

    def _lock(self) -> _StoppableLease:
        lock = LeaseLock(self._settings.lease_name, self._settings.lease_namespace, self.identity)
        lock.api_instance = self._coordination  # our cluster's client, not the global default
        return _StoppableLease(lock, self._stopped)

    def _compete(self) -> None:
        settings = self._settings
        while not self._stopped.is_set():
            config = electionconfig.Config(
                self._lock(),
                settings.lease_duration_seconds,
                settings.renew_deadline_seconds,
                settings.retry_period_seconds,
                self._started,
                self._lost,
            )
            try:
                leaderelection.LeaderElection(config).run()  # returns when a leader fails to renew
            except _Stopped:
                break
            except Exception:  # a bug or an unexpected answer: compete again, never die silently
                log.exception("leader election failed; competing again")
                self._stopped.wait(settings.retry_period_seconds)
            finally:
                self._lost()

    def _started(self) -> None:
        with self._state_lock:
            if self._stopped.is_set() or self._leading.is_set():
                return
            self._leading.set()
        log.info("%s is the leader", self.identity)
        self._on_started()

    def _lost(self) -> None:
        with self._state_lock:
            if not self._leading.is_set():
                return
            self._leading.clear()
        log.info("%s stopped leading", self.identity)
        self._on_stopped()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop competing; a leader stops leading (`on_stopped`) and hands the Lease back."""
        was_leader = self.is_leader
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._lost()
        if was_leader:
            self._release()

    def _release(self) -> None:
        name, namespace = self._settings.lease_name, self._settings.lease_namespace
        try:
            lease = self._coordination.read_namespaced_lease(name, namespace)
            if lease.spec is None or lease.spec.holder_identity != self.identity:
                return  # already someone else's
            lease.spec.holder_identity = None  # an empty holder: the next candidate takes it at once
            self._coordination.replace_namespaced_lease(name, namespace, lease)  # conflicts if it moved
        except Exception as exc:  # the lease then simply expires
            log.warning("handing back lease %s/%s failed: %s", namespace, name, exc)
