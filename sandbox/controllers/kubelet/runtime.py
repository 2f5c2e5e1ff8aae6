"""The kubelet's bookkeeping: one `PodRuntime` per admitted pod, one `ContainerRuntime` per container,
one `Instance` per start of a container, and the services every part of the kubelet shares."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.controllers.base import Key, Timers
from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.workload import NEVER, Plan
from sandbox.images import ImageCatalogue, ImageSpec
from sandbox.logs import LogStore
from sandbox.profiles.world import ClusterNetwork
from sandbox.store import Obj, Store

# The kubelet sees a started container at its next relist (PLEG, every second): one that exits
# sooner is never reported Ready (a StatefulSet waiting for Ready never sees a crash-looper so).
READY_AFTER = 1.0
MAX_BACKOFF = 300.0
INITIAL_BACKOFF = 10.0
CONFIG_RETRY = 20.0


@dataclass
class Instance:
    """One start of a container."""

    number: int
    started: float
    plan: Plan
    spec: ImageSpec
    container_id: str
    finished: float | None = None
    exit_code: int = 0
    reason: str = ""
    deps_ok: bool = True
    dep_error: str = ""
    # Folded counters (requests ok/failed, CPU seconds) and when the current rates began.
    ok: float = 0.0
    failed: dict[str, float] = field(default_factory=dict)  # status code -> requests
    cpu: float = 0.0
    seg_start: float = 0.0
    last_ws: float = 0.0

    def error_rate(self) -> float:
        """Fraction of requests failing right now."""
        return 0.95 if not self.deps_ok else self.plan.error_rate

    def error_code(self) -> str:
        """The status code failing requests get (503 while a dependency is down)."""
        return "503" if not self.deps_ok else "500"

    def fold(self, now: float) -> None:
        """Accumulate counters up to `now` at the current rates."""
        end = now if self.finished is None else min(now, self.finished)
        serving_from = max(self.seg_start, self.started + self.plan.listen_after)
        if end > serving_from and self.plan.serves_http:
            n = self.plan.request_rate * (end - serving_from)
            code = self.error_code()
            self.failed[code] = self.failed.get(code, 0.0) + n * self.error_rate()
            self.ok += n * (1 - self.error_rate())
        if end > self.seg_start:
            self.cpu += self.plan.cpu_millis / 1000.0 * (end - self.seg_start)
        self.seg_start = max(self.seg_start, end)

    def counters(self, now: float) -> tuple[float, dict[str, float], float]:
        """(ok requests, failed requests by code, cpu seconds) as of `now`, without mutating."""
        snap = Instance(
            self.number,
            self.started,
            self.plan,
            self.spec,
            self.container_id,
            self.finished,
            deps_ok=self.deps_ok,
            ok=self.ok,
            failed=dict(self.failed),
            cpu=self.cpu,
            seg_start=self.seg_start,
        )
        snap.fold(now)
        return snap.ok, snap.failed, snap.cpu

    def working_set(self, now: float) -> float:
        """Working-set bytes now (the last value once exited)."""
        end = now if self.finished is None else self.finished
        return self.plan.working_set(end - self.started)


@dataclass
class ProbeState:
    """Consecutive results of one probe of the running instance."""

    kind: str  # "startup" | "readiness" | "liveness"
    spec: dict
    failures: int = 0
    succeeded: bool = False
    next_at: float = NEVER


@dataclass
class ContainerRuntime:
    """The kubelet's view of one container of a pod."""

    name: str
    spec: dict
    stage: str = "sandbox"  # sandbox, config, pull, pulling, pull-backoff, create, running, backoff, done
    next_at: float = 0.0
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    image: ImageSpec | None = None
    env: dict[str, str] = field(default_factory=dict)
    restart_count: int = 0
    crash_backoff: float = 0.0
    pull_backoff: float = INITIAL_BACKOFF
    instance: Instance | None = None
    last_terminated: dict | None = None
    terminated: dict | None = None  # current state when exited and not restarting
    ready: bool = False
    probes: list[ProbeState] = field(default_factory=list)
    ever_started: bool = False
    pull_started: float = 0.0
    ready_at: float = NEVER  # a container without readiness/startup probes is Ready from then
    init: bool = False  # an init container (runs to completion before the app containers)
    sidecar: bool = False  # an init container with restartPolicy Always (keeps running)

    @property
    def succeeded(self) -> bool:
        """Exited 0 and done (what an init container must do before the next one starts)."""
        return self.stage == "done" and (self.terminated or {}).get("exitCode") == 0


@dataclass
class PodRuntime:
    """The kubelet's view of one pod."""

    key: Key
    uid: str
    node: str
    ip: str
    host_ip: str
    start_time: float
    containers: list[ContainerRuntime]
    qos: str
    conditions: dict[str, tuple[str, str, float, str]] = field(
        default_factory=dict
    )  # type -> status/reason/t/msg
    evicted: str = ""
    final: bool = False
    last_status: dict | None = None
    sandbox_ready: bool = False
    init: list[ContainerRuntime] = field(default_factory=list)
    initialized: bool = False
    mounted: bool = False
    mount_next: float = 0.0
    mount_backoff: float = 0.0
    mount_since: float = 0.0
    mount_timeouts: int = 0

    @property
    def every_container(self) -> list[ContainerRuntime]:
        """Init containers, then app containers."""
        return [*self.init, *self.containers]

    @property
    def init_failed(self) -> bool:
        """An init container failed for good (restartPolicy Never): the pod has failed."""
        return any(c.stage == "done" and not c.succeeded for c in self.init if not c.sidecar)


@dataclass
class KubeletContext:
    """What every part of the kubelet uses: the store, the clock, timers, events, logs, images, nodes,
    and a pod's view of the cluster network (DNS, Services, other pods' listeners) for its programs."""

    store: Store
    clock: Any  # () -> simulated seconds
    timers: Timers
    recorder: EventRecorder
    logs: LogStore
    catalogue: ImageCatalogue
    rng: random.Random
    nodes: dict[str, tuple[int, str]]  # name -> (index, internal IP)
    network: Callable[[PodRuntime], ClusterNetwork]

    def emit(self, pod: Obj, type_: str, reason: str, message: str, container: str, node: str) -> None:
        """An event about `pod` (and one of its containers) from the kubelet on `node`."""
        inits = {c.get("name") for c in (pod.get("spec") or {}).get("initContainers") or []}
        group = "initContainers" if container in inits else "containers"
        field_path = f"spec.{group}{{{container}}}" if container else ""
        self.recorder.emit(pod, type_, reason, message, Source("kubelet", node), field_path)
