"""The Kubelet controller: admits bound pods, walks each container through its stages, publishes status.

Stages of a container: `sandbox` (the pod sandbox is up) -> `config` (env resolved, else
CreateContainerConfigError) -> `pull` / `pulling` / `pull-backoff` (`pull.py`) -> `create` ->
`running` -> `backoff` (restart) or `done` (`lifecycle.py`). Probes are in `probes.py`, Service
dependencies in `dependencies.py`, the published status in `status.py`, evictions in `eviction.py`.
The kubelet also answers the pod network: what listens on a pod's port (`listener`), for the
programs of other pods (`sandbox.profiles.world.ClusterNetwork`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sandbox.controllers.base import Controller, Key, Timers, key_of
from sandbox.controllers.events import EventRecorder
from sandbox.controllers.kubelet.dependencies import Dependencies
from sandbox.controllers.kubelet.env import resolve_env
from sandbox.controllers.kubelet.eviction import evict
from sandbox.controllers.kubelet.lifecycle import ContainerLifecycle
from sandbox.controllers.kubelet.pull import ImagePuller
from sandbox.controllers.kubelet.runtime import (
    CONFIG_RETRY,
    ContainerRuntime,
    KubeletContext,
    PodRuntime,
)
from sandbox.controllers.kubelet.status import StatusPublisher
from sandbox.controllers.kubelet.volumes import (
    MOUNT_RETRY_MAX,
    MOUNT_RETRY_START,
    MOUNT_TIMEOUT,
    timeout_message,
    unmountable,
)
from sandbox.controllers.pod_resources import qos_class
from sandbox.controllers.workload import NEVER
from sandbox.images import ImageCatalogue
from sandbox.logs import LogStore
from sandbox.profiles.launch import ProgramPlan, static_responder
from sandbox.profiles.world import ClusterNetwork
from sandbox.resources import CONFIGMAPS, PERSISTENTVOLUMECLAIMS, PODS, SECRETS, SERVICES
from sandbox.shell.process import Listener
from sandbox.store import Obj, Store, WatchEvent

Stage = Callable[[PodRuntime, Obj, ContainerRuntime, float], None]


class Kubelet(Controller):
    """Every node's kubelet in one reconcile loop keyed by pod."""

    name = "kubelet"

    def __init__(
        self,
        store: Store,
        clock: Any,
        timers: Timers,
        recorder: EventRecorder,
        logs: LogStore,
        catalogue: ImageCatalogue,
        rng: random.Random,
        nodes: dict[str, tuple[int, str]],
    ) -> None:
        super().__init__()
        self._ctx = KubeletContext(store, clock, timers, recorder, logs, catalogue, rng, nodes, self._network)
        self.nodes = nodes  # name -> (index, internal IP)
        self.pods: dict[Key, PodRuntime] = {}
        self._ip_next: dict[str, int] = {}
        self._config_waiters: dict[str, set[Key]] = {}
        self._deps = Dependencies(self._ctx, self.mark)
        self._status = StatusPublisher(self._ctx, self._deps)
        self._puller = ImagePuller(self._ctx)
        self._lifecycle = ContainerLifecycle(self._ctx, self._deps)
        self._stages: dict[str, Stage] = {
            "sandbox": self._stage_sandbox,
            "config": self._stage_config,
            "pull": self._puller.pull,
            "pulling": self._puller.pulling,
            "pull-backoff": self._puller.backoff,
            "create": self._lifecycle.create,
            "backoff": self._lifecycle.backoff,
        }

    @property
    def ready_pods(self) -> dict[str, dict[str, dict]]:
        """namespace -> Ready pod name -> its labels (the endpoints Services reach)."""
        return self._deps.ready_pods

    # --- the pod network ---------------------------------------------------------------------

    def _network(self, rt: PodRuntime) -> ClusterNetwork:
        """The cluster as the programs of the pod `rt` reach it."""
        return ClusterNetwork(
            self._ctx.store, rt.key[0], rt.key[1], rt.ip, self.listener, self._deps.ready_pods
        )

    def listener(self, namespace: str, pod: str, port: int) -> Listener | None:
        """What listens on `port` in a pod now (any of its running containers, sidecars included)."""
        rt = self.pods.get((namespace, pod))
        if rt is None:
            return None
        now = self._ctx.clock()
        for c in rt.every_container:
            inst = c.instance
            if inst is None or inst.finished is not None or c.stage != "running":
                continue
            if isinstance(inst.plan, ProgramPlan):
                found = inst.plan.listener(port)
                if found is not None:
                    return found
            elif inst.plan.port == port and now - inst.started >= inst.plan.listen_after:
                spec = inst.spec
                return Listener(port, "http" if spec.health_path else "tcp", static_responder(spec))
        return None

    # --- events ---------------------------------------------------------------------------

    def observe(self, event: WatchEvent) -> None:
        """Track bound pods; wake dependents on Service and config changes."""
        if event.key == PODS.key:
            key = key_of(event.obj)
            if event.type == "DELETED":
                self._forget(key, event.obj)
                return
            node = (event.obj.get("spec") or {}).get("nodeName")
            rt = self.pods.get(key)
            if rt is not None and rt.uid != event.obj["metadata"].get("uid"):
                self._forget(key, event.obj)
                rt = None
            if node in self.nodes and (rt is None or event.obj["metadata"].get("deletionTimestamp")):
                self.mark(key)
        elif event.key == SERVICES.key:
            for k in self._deps.dependents(event.namespace):
                self.mark(k)
        elif event.key in (CONFIGMAPS.key, SECRETS.key, PERSISTENTVOLUMECLAIMS.key):
            for k in self._config_waiters.get(event.namespace, ()):
                self.mark(k)

    def _forget(self, key: Key, obj: Obj) -> None:
        rt = self.pods.pop(key, None)
        if rt is None:
            return
        for c in rt.every_container:
            if c.instance is not None and c.instance.finished is None and not rt.final:
                self._ctx.emit(obj, "Normal", "Killing", f"Stopping container {c.name}", c.name, rt.node)
        self._deps.set_ready(rt, obj, False)
        self._deps.forget(key)
        for waiters in self._config_waiters.values():
            waiters.discard(key)
        self._ctx.logs.forget_pod(*key)

    # --- sync -----------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Advance one pod to the current simulated time and publish its status."""
        store = self._ctx.store
        pod = store.find(PODS, key[0], key[1], copy=False)
        if pod is None:
            return
        rt = self.pods.get(key)
        if rt is None:
            node = (pod.get("spec") or {}).get("nodeName")
            if node not in self.nodes or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                return
            rt = self._admit(pod, node)
        if rt.final:
            return
        now = self._ctx.clock()
        if pod["metadata"].get("deletionTimestamp"):
            store.delete(PODS, key[0], key[1])
            return
        if not rt.mounted:
            self._mount(rt, pod, now)
        if rt.mounted and not rt.init_failed:
            self._run_init(rt, pod, now)
            if rt.initialized:
                for c in rt.containers:
                    self._advance(rt, pod, c, now)
        self._status.publish(rt, pod, now)
        if rt.init_failed:
            rt.final = True  # restartPolicy Never and an init container failed: the pod has failed
            return
        wake = _wake(rt)
        if wake < NEVER:
            # Every stage moves its wake-up past `now`; the floor only guards against a busy loop.
            self._ctx.timers.at(max(wake, now + 0.001), self.name, key)

    def _admit(self, pod: Obj, node: str) -> PodRuntime:
        index, host_ip = self.nodes[node]
        n = self._ip_next.get(node, 2)
        self._ip_next[node] = 2 if n >= 254 else n + 1
        spec = pod.get("spec") or {}
        now = self._ctx.clock()
        rt = PodRuntime(
            key=key_of(pod),
            uid=pod["metadata"].get("uid", ""),
            node=node,
            ip=f"10.244.{index}.{n}",
            host_ip=host_ip,
            start_time=now,
            containers=[
                ContainerRuntime(c["name"], c, next_at=now + 0.5) for c in spec.get("containers") or []
            ],
            qos=qos_class(spec),
            init=[
                ContainerRuntime(
                    c["name"],
                    c,
                    next_at=now + 0.5,
                    waiting_reason="PodInitializing",
                    init=True,
                    sidecar=c.get("restartPolicy") == "Always",
                )
                for c in spec.get("initContainers") or []
            ],
            mount_since=now,
        )
        rt.initialized = not rt.init
        self.pods[rt.key] = rt
        self._ctx.logs.register_pod(
            rt.key[0], rt.key[1], [c.name for c in rt.containers], [c.name for c in rt.init]
        )
        return rt

    def _mount(self, rt: PodRuntime, pod: Obj, now: float) -> None:
        """Set up the pod's volumes, or report why not (FailedMount) and retry with back-off."""
        failing = unmountable(self._ctx.store, pod)
        if not failing:
            rt.mounted = True
            self._config_waiters.get(rt.key[0], set()).discard(rt.key)
            return
        self._config_waiters.setdefault(rt.key[0], set()).add(rt.key)
        if now < rt.mount_next:
            return
        for volume, error in failing:
            message = f'MountVolume.SetUp failed for volume "{volume}" : {error}'
            self._ctx.emit(pod, "Warning", "FailedMount", message, "", rt.node)
        if now - rt.mount_since >= MOUNT_TIMEOUT * (rt.mount_timeouts + 1):
            rt.mount_timeouts += 1
            message = timeout_message(pod, [v for v, _ in failing])
            self._ctx.emit(pod, "Warning", "FailedMount", message, "", rt.node)
        rt.mount_backoff = min(max(rt.mount_backoff * 2, MOUNT_RETRY_START), MOUNT_RETRY_MAX)
        rt.mount_next = now + rt.mount_backoff

    def _run_init(self, rt: PodRuntime, pod: Obj, now: float) -> None:
        """Init containers in order: each must succeed (a sidecar: start) before the next one runs."""
        for c in rt.init:
            if c.succeeded:
                continue
            self._advance(rt, pod, c, now)
            if c.succeeded or (c.sidecar and c.ever_started):
                continue
            return
        if not rt.initialized:
            rt.initialized = True
            for c in rt.containers:
                c.next_at = min(c.next_at, now)

    def _advance(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        for _ in range(12):  # a few stages can complete at the same instant
            if c.stage == "running":
                self._lifecycle.run(rt, pod, c, now)
                return
            if c.next_at > now or c.stage == "done":
                return
            before = c.stage
            self._stages[c.stage](rt, pod, c, now)
            if c.stage == before and c.next_at > now:
                return

    def _stage_sandbox(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        rt.sandbox_ready = True
        c.stage = "config"

    def _stage_config(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        env, error = resolve_env(self._ctx.store, pod, c.spec, rt)
        if error:
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", error
            self._ctx.logs.set_waiting(*rt.key, c.name, "CreateContainerConfigError")
            self._ctx.emit(pod, "Warning", "Failed", f"Error: {error}", c.name, rt.node)
            self._config_waiters.setdefault(rt.key[0], set()).add(rt.key)
            c.next_at = now + CONFIG_RETRY
            return
        self._config_waiters.get(rt.key[0], set()).discard(rt.key)
        c.env = env
        c.stage, c.next_at = "pull", now

    # --- node pressure and metrics ----------------------------------------------------------

    def evict(self, key: Key, message: str) -> None:
        """Evict a pod (node pressure): kill its containers and fail it with reason Evicted."""
        rt = self.pods.get(key)
        pod = self._ctx.store.find(PODS, key[0], key[1], copy=False)
        if rt is None or pod is None or rt.final:
            return
        now = self._ctx.clock()
        evict(self._ctx, rt, pod, message, now)
        self._status.publish(rt, pod, now)
        rt.final = True

    def usage(self, key: Key, now: float) -> float:
        """The pod's working set in bytes."""
        rt = self.pods.get(key)
        if rt is None:
            return 0.0
        return sum(
            c.instance.working_set(now)
            for c in rt.every_container
            if c.instance and c.instance.finished is None
        )


def _wake(rt: PodRuntime) -> float:
    """When this pod next needs the kubelet: a volume retry, or its containers in play."""
    if not rt.mounted:
        return rt.mount_next
    in_play = [*_init_in_play(rt), *(rt.containers if rt.initialized else [])]
    return min((_next_wake(c) for c in in_play), default=NEVER)


def _init_in_play(rt: PodRuntime) -> list[ContainerRuntime]:
    """The init containers `_run_init` has reached: those done or started as sidecars, and the one it
    waits on. A later one has not begun (its `next_at` is stale): waking for it would spin the kubelet
    every millisecond until the one before it ends."""
    reached = []
    for c in rt.init:
        reached.append(c)
        if not (c.succeeded or (c.sidecar and c.ever_started)):
            break
    return reached


def _next_wake(c: ContainerRuntime) -> float:
    if c.stage == "done":
        return NEVER
    if c.stage != "running" or c.instance is None:
        return c.next_at
    inst = c.instance
    # A program also wakes the kubelet when it next does something (a sleep ends, a line is due).
    wake = inst.started + inst.plan.wake_after if isinstance(inst.plan, ProgramPlan) else NEVER
    return min([inst.started + inst.plan.exit_after, wake, c.ready_at, *(p.next_at for p in c.probes)])
