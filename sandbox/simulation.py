"""The physics of the sandbox: controllers, scheduler and kubelet driven by a simulated clock.

Watch events from the store land in a queue (store callbacks must not write); `step(dt)`
drains it, reconciles every dirty key, then jumps the clock from timer to timer (back-offs,
probes, deadlines) up to `dt` later. With a fixed seed and no outside writes, the same steps
give the same pod names, events and logs. `start()` runs the same loop in a background thread,
advancing the clock by wall time x `clock.factor`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import traceback
from collections.abc import Callable

from sandbox.clock import SimClock
from sandbox.controllers.base import Cache, Controller, EventQueue, Timers, Wiring
from sandbox.controllers.cronjob import CronJobController
from sandbox.controllers.daemonset import DaemonSetController
from sandbox.controllers.deployment import DeploymentController
from sandbox.controllers.events import EventRecorder
from sandbox.controllers.job import JobController
from sandbox.controllers.kubelet import Kubelet
from sandbox.controllers.node import NodeController, NodeSpec, default_nodes
from sandbox.controllers.persistentvolume import PersistentVolumeController
from sandbox.controllers.quantity import memory_bytes
from sandbox.controllers.quota import QuotaController
from sandbox.controllers.replicaset import ReplicaSetController
from sandbox.controllers.scheduler import Scheduler
from sandbox.controllers.serviceaccount import ServiceAccountController
from sandbox.controllers.statefulset import StatefulSetController
from sandbox.images import ImageCatalogue
from sandbox.logs import LogStore
from sandbox.metrics import render
from sandbox.resources import (
    CRONJOBS,
    DAEMONSETS,
    DEPLOYMENTS,
    JOBS,
    NAMESPACES,
    NODES,
    PERSISTENTVOLUMECLAIMS,
    PODS,
    REPLICASETS,
    RESOURCEQUOTAS,
    STATEFULSETS,
    Registry,
)
from sandbox.store import Store, WatchEvent

log = logging.getLogger(__name__)

EVENT_GC_SECONDS = 300.0
MAX_SETTLE_ROUNDS = 10_000


class Simulation:
    """Every controller of the sandbox cluster, stepped together on one simulated clock."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        clock: SimClock,
        seed: int = 0,
        nodes: int | list[NodeSpec] = 3,
        catalogue: ImageCatalogue | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.seed = seed
        self.catalogue = catalogue or ImageCatalogue()
        self.timers = Timers()
        self.queue = EventQueue()
        self.cache = Cache()
        self.errors: list[str] = []  # reconcile failures (a bug, or a store refusing a write)
        now = clock.time
        self.recorder = EventRecorder(store, now)
        self.logs = LogStore(now, seed)
        self.kubelet = Kubelet(
            store,
            now,
            self.timers,
            self.recorder,
            self.logs,
            self.catalogue,
            random.Random(f"{seed}/kubelet"),
            {},
        )
        node_specs = default_nodes(nodes) if isinstance(nodes, int) else list(nodes)
        wiring = Wiring(store, now, self.timers, self.recorder, self.cache, registry)
        self.nodes = NodeController(wiring, self.kubelet, node_specs)
        self.scheduler = Scheduler(wiring)
        self.replicasets = ReplicaSetController(wiring, random.Random(f"{seed}/names"))
        self.deployments = DeploymentController(wiring)
        self.jobs = JobController(wiring, random.Random(f"{seed}/jobs"))
        self.cronjobs = CronJobController(wiring)
        self.statefulsets = StatefulSetController(wiring)
        self.daemonsets = DaemonSetController(wiring, random.Random(f"{seed}/daemons"))
        self.volumes = PersistentVolumeController(wiring)
        self.quotas = QuotaController(store, registry)
        self.serviceaccounts = ServiceAccountController(store)
        self._controllers: dict[str, Controller] = {
            c.name: c
            for c in (
                self.kubelet,
                self.scheduler,
                self.replicasets,
                self.deployments,
                self.nodes,
                self.jobs,
                self.cronjobs,
                self.statefulsets,
                self.daemonsets,
                self.volumes,
                self.quotas,
                self.serviceaccounts,
            )
        }
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sub = store.subscribe(self.queue.push)
        # Objects that predate us: replay them as ADDED so the indexes and controllers see them.
        for rt in (
            NAMESPACES, NODES, DEPLOYMENTS, REPLICASETS, CRONJOBS, JOBS, STATEFULSETS, DAEMONSETS,
            PERSISTENTVOLUMECLAIMS, RESOURCEQUOTAS, PODS,
        ):  # fmt: skip
            items, rv = store.list(rt, copy=False)
            for obj in items:
                ns = obj["metadata"].get("namespace", "")
                self.queue.push(WatchEvent("ADDED", rt.key, ns, obj, rv))
        self.nodes.register()
        self.timers.at(now() + EVENT_GC_SECONDS, "events", "gc")

    # --- stepping -------------------------------------------------------------------------------

    def step(self, dt: float) -> None:
        """Advance simulated time by `dt` seconds, running everything that falls due on the way."""
        if dt < 0:
            raise ValueError("cannot step backwards")
        with self._lock:
            target = self.clock.time() + dt
            self._settle()
            stuck, last = 0, -1.0
            while True:
                nxt = self.timers.next_time()
                if nxt is None or nxt > target:
                    break
                stuck, last = (stuck + 1 if nxt <= last else 0), max(last, nxt)
                if stuck > MAX_SETTLE_ROUNDS:  # a controller keeps re-arming a timer in the past: a bug
                    self.errors.append(f"timers stuck at {nxt}")
                    break
                self.clock.set(nxt)
                for owner, key in self.timers.pop_due(max(nxt, self.clock.time())):
                    if owner == "events":
                        self.recorder.expire()
                        self.timers.at(self.clock.time() + EVENT_GC_SECONDS, "events", "gc")
                    else:
                        self._controllers[owner].mark(key)
                self._settle()
            self.clock.set(target)
            self._settle()

    def _settle(self) -> None:
        for _ in range(MAX_SETTLE_ROUNDS):
            events = self.queue.drain()
            for event in events:
                self.cache.observe(event)
                for c in self._controllers.values():
                    c.observe(event)
            worked = bool(events)
            for c in self._controllers.values():
                for key in c.take_dirty():
                    worked = True
                    try:
                        c.sync(key)
                    except Exception:  # a controller bug must not stop the cluster; it is recorded
                        self.errors.append(f"{c.name} {key}: {traceback.format_exc()}")
                        log.exception("sandbox controller %s failed on %s", c.name, key)
            if not worked:
                return
        self.errors.append("controllers did not settle")

    # --- background loop ------------------------------------------------------------------------

    def start(self, tick_seconds: float = 0.05) -> None:
        """Run the controllers in a background thread, sim time = wall time x clock.factor."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            last = time.monotonic()
            while not self._stop.wait(tick_seconds):
                now = time.monotonic()
                self.step((now - last) * self.clock.factor)
                last = now

        self._thread = threading.Thread(target=loop, name="sandbox-simulation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background loop (the store subscription stays until `close`)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        """Stop and detach from the store."""
        self.stop()
        self.store.unsubscribe(self._sub)

    @property
    def running(self) -> bool:
        """Whether the background loop is running."""
        return self._thread is not None

    def wait_until(
        self, predicate: Callable[[], bool], timeout_sim_seconds: float, step: float = 1.0
    ) -> bool:
        """Step (or, when running in the background, wait) until `predicate()` or the deadline; True if met.

        Checked every `step` simulated seconds.
        """
        deadline = self.clock.time() + timeout_sim_seconds
        while True:
            with self._lock:
                if predicate():
                    return True
            if self.clock.time() >= deadline:
                return False
            if self.running:
                time.sleep(min(0.02, step / self.clock.factor))
            else:
                self.step(min(step, deadline - self.clock.time()))

    # --- observability and faults ---------------------------------------------------------------

    def render_metrics(self) -> str:
        """The Prometheus exposition of the cluster right now (the API server's metrics source)."""
        with self._lock:
            return render(self.store, self.kubelet, self.clock.time)

    def set_node_pressure(self, node: str, on: bool, reclaim: str = "512Mi") -> None:
        """Put a node under memory pressure (evicting pods until `reclaim` is freed) or relieve it."""
        with self._lock:
            self.nodes.set_pressure(node, on, memory_bytes(reclaim))
            self._settle()

    @property
    def node_names(self) -> list[str]:
        """The simulated nodes."""
        return list(self.nodes.specs)
