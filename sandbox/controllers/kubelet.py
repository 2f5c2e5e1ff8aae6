"""A simulated kubelet for every node: runs bound pods through their lifecycle and reports pod status.

Per container: resolve env (CreateContainerConfigError), pull the image (ErrImagePull /
ImagePullBackOff with back-off), create and start it, then let the program's `Plan` decide
what happens (exit, OOM kill, listening, failing requests); restart with CrashLoopBackOff
back-off (10s doubling to 5m); run readiness/liveness/startup probes only when their outcome
can change or is failing (so a healthy cluster costs nothing per tick). Pod conditions,
phase, IPs, QoS and container statuses are written through the status subresource.
"""

from __future__ import annotations

import base64
import random
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.clock import human_duration, rfc3339
from sandbox.controllers.base import Controller, Key, Timers, key_of, update_with_retry
from sandbox.controllers.events import EventRecorder, Source
from sandbox.controllers.quantity import cpu_millis, memory_bytes
from sandbox.controllers.workload import NEVER, Plan, dependency_error, plan_instance
from sandbox.images import ImageCatalogue, ImageSpec, canonical_reference
from sandbox.logs import LogStore, Mode, format_line
from sandbox.profiles.launch import ProgramPlan, launch, static_responder
from sandbox.profiles.world import ClusterNetwork
from sandbox.registry.credentials import pull_credentials
from sandbox.resources import CONFIGMAPS, PODS, SECRETS, SERVICES
from sandbox.selectors import selector_from_spec
from sandbox.shell.process import Listener
from sandbox.store import Obj, Store, WatchEvent

MAX_BACKOFF = 300.0
INITIAL_BACKOFF = 10.0
CONFIG_RETRY = 20.0
LOG_LINES_PER_SECOND = 1.0  # background access lines are sampled, not one per request


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


def qos_class(spec: Obj) -> str:
    """Guaranteed / Burstable / BestEffort from the containers' requests and limits."""
    containers = spec.get("containers") or []
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        limits, requests = res.get("limits") or {}, res.get("requests") or {}
        if limits or requests:
            any_set = True
        for r in ("cpu", "memory"):
            lim = limits.get(r)
            req = requests.get(r, lim)
            if lim is None or req is None or memory_bytes(req) != memory_bytes(lim):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def pod_requests(spec: Obj) -> tuple[int, int]:
    """Summed (cpu millicores, memory bytes) requests; limits stand in for missing requests."""
    cpu = mem = 0
    for c in spec.get("containers") or []:
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        cpu += cpu_millis(req.get("cpu", lim.get("cpu")))
        mem += memory_bytes(req.get("memory", lim.get("memory")))
    return cpu, mem


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
        self._store = store
        self._clock = clock
        self._timers = timers
        self._recorder = recorder
        self._logs = logs
        self._catalogue = catalogue
        self._rng = rng
        self.nodes = nodes  # name -> (index, internal IP)
        self.pods: dict[Key, PodRuntime] = {}
        self._ip_next: dict[str, int] = {}
        self._node_images: dict[str, set[str]] = {}
        self.ready_pods: dict[str, dict[str, dict]] = {}  # namespace -> pod name -> labels
        self._dependents: dict[str, set[Key]] = {}  # dependency namespace -> pods depending on it
        self._config_waiters: dict[str, set[Key]] = {}

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
            for k in self._dependents.get(event.namespace, ()):
                self.mark(k)
        elif event.key in (CONFIGMAPS.key, SECRETS.key):
            for k in self._config_waiters.get(event.namespace, ()):
                self.mark(k)

    def _forget(self, key: Key, obj: Obj) -> None:
        rt = self.pods.pop(key, None)
        if rt is None:
            return
        for c in rt.containers:
            if c.instance is not None and c.instance.finished is None and not rt.final:
                self._emit(obj, "Normal", "Killing", f"Stopping container {c.name}", c.name, rt.node)
        self._set_ready_index(rt, obj, False)
        for waiters in (*self._dependents.values(), *self._config_waiters.values()):
            waiters.discard(key)
        self._logs.forget_pod(*key)

    # --- sync -----------------------------------------------------------------------------

    def sync(self, key: Key) -> None:
        """Advance one pod to the current simulated time and publish its status."""
        pod = self._store.find(PODS, key[0], key[1], copy=False)
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
        now = self._clock()
        if pod["metadata"].get("deletionTimestamp"):
            self._store.delete(PODS, key[0], key[1])
            return
        for c in rt.containers:
            self._advance(rt, pod, c, now)
        self._publish(rt, pod, now)
        wake = min((self._next_wake(c) for c in rt.containers), default=NEVER)
        if wake < NEVER:
            # Every stage moves its wake-up past `now`; the floor only guards against a busy loop.
            self._timers.at(max(wake, now + 0.001), self.name, key)

    def _admit(self, pod: Obj, node: str) -> PodRuntime:
        index, host_ip = self.nodes[node]
        n = self._ip_next.get(node, 2)
        self._ip_next[node] = 2 if n >= 254 else n + 1
        spec = pod.get("spec") or {}
        rt = PodRuntime(
            key=key_of(pod),
            uid=pod["metadata"].get("uid", ""),
            node=node,
            ip=f"10.244.{index}.{n}",
            host_ip=host_ip,
            start_time=self._clock(),
            containers=[
                ContainerRuntime(c["name"], c, next_at=self._clock() + 0.5)
                for c in spec.get("containers") or []
            ],
            qos=qos_class(spec),
        )
        self.pods[rt.key] = rt
        self._logs.register_pod(rt.key[0], rt.key[1], [c.name for c in rt.containers])
        return rt

    def _next_wake(self, c: ContainerRuntime) -> float:
        if c.stage == "done":
            return NEVER
        if c.stage != "running" or c.instance is None:
            return c.next_at
        inst = c.instance
        wake = inst.started + inst.plan.wake_after if isinstance(inst.plan, ProgramPlan) else NEVER
        return min([inst.started + inst.plan.exit_after, wake, *(p.next_at for p in c.probes)])

    # --- the container state machine ---------------------------------------------------------

    def _advance(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        for _ in range(12):  # a few stages can complete at the same instant
            if c.stage == "running":
                self._run(rt, pod, c, now)
                return
            if c.next_at > now or c.stage == "done":
                return
            before = c.stage
            getattr(self, "_stage_" + c.stage.replace("-", "_"))(rt, pod, c, now)
            if c.stage == before and c.next_at > now:
                return

    def _stage_sandbox(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        rt.sandbox_ready = True
        c.stage = "config"

    def _stage_config(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        env, error = self._resolve_env(pod, c.spec, rt)
        if error:
            c.waiting_reason, c.waiting_message = "CreateContainerConfigError", error
            self._logs.set_waiting(*rt.key, c.name, "CreateContainerConfigError")
            self._emit(pod, "Warning", "Failed", f"Error: {error}", c.name, rt.node)
            self._config_waiters.setdefault(rt.key[0], set()).add(rt.key)
            c.next_at = now + CONFIG_RETRY
            return
        self._config_waiters.get(rt.key[0], set()).discard(rt.key)
        c.env = env
        c.stage, c.next_at = "pull", now

    def _stage_pull(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        image = c.spec.get("image", "")
        pulled = self._catalogue.pull(image, pull_credentials(self._store, pod))
        spec = pulled.spec
        if pulled.reason == "InvalidImageName":
            c.waiting_reason, c.waiting_message = "InvalidImageName", pulled.message
            self._emit(pod, "Warning", "InspectFailed", pulled.message, c.name, rt.node)
            self._emit(pod, "Warning", "Failed", "Error: InvalidImageName", c.name, rt.node)
            c.next_at = now + CONFIG_RETRY
            return
        policy = c.spec.get("imagePullPolicy") or (
            "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent"
        )
        present = image in self._node_images.get(rt.node, set())
        if spec is not None and present and policy != "Always":
            self._emit(
                pod,
                "Normal",
                "Pulled",
                f'Container image "{image}" already present on machine',
                c.name,
                rt.node,
            )
            c.image, c.stage, c.next_at = spec, "create", now
            return
        if policy == "Never":
            msg = f'Container image "{image}" is not present with pull policy of Never'
            c.waiting_reason, c.waiting_message = "ErrImageNeverPull", msg
            self._emit(pod, "Warning", "ErrImageNeverPull", msg, c.name, rt.node)
            c.next_at = now + CONFIG_RETRY
            return
        self._emit(pod, "Normal", "Pulling", f'Pulling image "{image}"', c.name, rt.node)
        if spec is None:
            full = pulled.message
            c.waiting_reason, c.waiting_message = "ErrImagePull", full
            self._logs.set_waiting(*rt.key, c.name, "trying and failing to pull image")
            self._emit(pod, "Warning", "Failed", full, c.name, rt.node)
            self._emit(pod, "Warning", "Failed", "Error: ErrImagePull", c.name, rt.node)
            c.stage, c.next_at = "pull-backoff", now + 1.0
            return
        c.image = spec
        c.stage, c.pull_started = "pulling", now
        c.next_at = now + 0.5 + spec.size_bytes / 40_000_000 * (0.8 + 0.4 * self._rng.random())

    def _stage_pulling(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        image = c.spec.get("image", "")
        took = f"{now - c.pull_started:.3f}s"
        size = c.image.size_bytes if c.image else 0
        self._node_images.setdefault(rt.node, set()).add(image)
        self._emit(
            pod,
            "Normal",
            "Pulled",
            f'Successfully pulled image "{image}" in {took} ({took} including waiting). '
            f"Image size: {size} bytes.",
            c.name,
            rt.node,
        )
        c.stage, c.next_at = "create", now

    def _stage_pull_backoff(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        if c.waiting_reason == "ErrImagePull":
            image = c.spec.get("image", "")
            c.waiting_reason = "ImagePullBackOff"
            c.waiting_message = f'Back-off pulling image "{image}"'
            self._emit(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', c.name, rt.node)
            self._emit(pod, "Warning", "Failed", "Error: ImagePullBackOff", c.name, rt.node)
            c.next_at = now + c.pull_backoff
            c.pull_backoff = min(c.pull_backoff * 2, MAX_BACKOFF)
            return
        c.stage, c.next_at = "config", now  # config may have changed meanwhile: re-resolve, then pull

    def _stage_create(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        assert c.image is not None
        limit = memory_bytes(((c.spec.get("resources") or {}).get("limits") or {}).get("memory"))
        plan = launch(
            c.image, pod, c.spec, c.env, limit, now, self._store, self._network(rt)
        ) or plan_instance(c.image, c.spec, c.env, limit, rt.key[0], self._rng)
        number = (c.instance.number + 1) if c.instance else 0
        cid = "containerd://" + "".join(self._rng.choice("0123456789abcdef") for _ in range(64))
        if c.instance is not None:
            c.restart_count += 1
        if c.terminated is not None:
            c.last_terminated, c.terminated = c.terminated, None
        self._emit(pod, "Normal", "Created", f"Created container: {c.name}", c.name, rt.node)
        self._emit(pod, "Normal", "Started", f"Started container {c.name}", c.name, rt.node)
        inst = Instance(number, now, plan, c.image, cid, seg_start=now)
        c.instance = inst
        c.stage, c.next_at, c.terminated, c.ever_started = "running", NEVER, None, True
        c.waiting_reason = c.waiting_message = ""
        log = self._logs.start(rt.key[0], rt.key[1], c.name, number, c.image.style, now)
        log.quiet_until = now + plan.listen_after
        for offset, line in sorted(
            plan.raw_lines
            + [(o, format_line(c.image.style, now + o, lvl, msg)) for o, lvl, msg in plan.lines]
        ):
            log.add(now + max(offset, 0.0), line)
        if isinstance(plan, ProgramPlan):
            self._step_program(rt, c, now)
        c.probes = [
            ProbeState(kind, dict(c.spec[f"{kind}Probe"]))
            for kind in ("startup", "liveness", "readiness")
            if c.spec.get(f"{kind}Probe")
        ]
        gated = any(p.kind == "startup" for p in c.probes)
        for p in c.probes:
            # The prober's worker starts about a second after the container does.
            first = now + float(p.spec.get("initialDelaySeconds") or 0) + 1.0
            p.next_at = first if p.kind == "startup" or not gated else NEVER
        c.ready = not any(p.kind in ("readiness", "startup") for p in c.probes)
        if plan.dependencies:
            for dep in plan.dependencies:
                self._dependents.setdefault(dep.namespace, set()).add(rt.key)
            self._check_dependencies(rt, c, now)
        self._set_log_mode(rt, c, now)

    def _stage_backoff(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        c.stage, c.next_at = "config", now

    # --- running -------------------------------------------------------------------------------

    def _run(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        inst = c.instance
        assert inst is not None
        program = isinstance(inst.plan, ProgramPlan)
        if program:  # up to the first due probe: probes see the program as it is at their time
            self._step_program(rt, c, min([now, *(p.next_at for p in c.probes)]))
        exit_at = inst.started + inst.plan.exit_after
        if inst.plan.dependencies:
            self._check_dependencies(rt, c, min(now, exit_at))
        while c.stage == "running":
            due = [p for p in c.probes if p.next_at <= now and p.next_at < exit_at]
            if due:
                probe = min(due, key=lambda p: p.next_at)
                self._run_probe(rt, pod, c, probe, probe.next_at)
                exit_at = inst.started + inst.plan.exit_after
                continue
            if program and exit_at > now:
                self._step_program(rt, c, now)
                exit_at = inst.started + inst.plan.exit_after
            if now >= exit_at:
                self._terminate(rt, pod, c, exit_at, inst.plan.exit_code, inst.plan.exit_reason)
            break

    def _probe_result(self, rt: PodRuntime, c: ContainerRuntime, probe: dict, t: float) -> str | None:
        """None on success, else the failure text the kubelet reports."""
        inst = c.instance
        assert inst is not None
        if isinstance(inst.plan, ProgramPlan):
            self._step_program(rt, c, t)
            return inst.plan.probe(probe, t, rt.ip, lambda port: self._port(c, port))
        listening = inst.plan.port is not None and t - inst.started >= inst.plan.listen_after
        if "httpGet" in probe:
            h = probe["httpGet"]
            port = self._port(c, h.get("port"))
            path = h.get("path") or "/"
            scheme = (h.get("scheme") or "HTTP").lower()
            if port != inst.plan.port or not listening:
                return (
                    f'Get "{scheme}://{rt.ip}:{port}{path}": dial tcp {rt.ip}:{port}: connect: '
                    "connection refused"
                )
            if not inst.spec.serves(path):
                return "HTTP probe failed with statuscode: 404"
            return None
        if "tcpSocket" in probe:
            port = self._port(c, probe["tcpSocket"].get("port"))
            if port != inst.plan.port or not listening:
                return f"dial tcp {rt.ip}:{port}: connect: connection refused"
            return None
        if "exec" in probe:
            cmd = (probe["exec"].get("command") or [""])[0]
            if cmd.rsplit("/", 1)[-1] not in inst.spec.binaries:
                return (
                    "OCI runtime exec failed: exec failed: unable to start container process: "
                    f'exec: "{cmd}": executable file not found in $PATH: unknown'
                )
            return None if listening or inst.plan.port is None else f"command {cmd!r} exited with 1"
        if "grpc" in probe:
            port = self._port(c, probe["grpc"].get("port"))
            return (
                None
                if listening and port == inst.plan.port
                else f'timeout: failed to connect service ":{port}"'
            )
        return None

    def _port(self, c: ContainerRuntime, port: Any) -> int | None:
        if isinstance(port, int):
            return port
        if isinstance(port, str) and port.isdigit():
            return int(port)
        for p in c.spec.get("ports") or []:
            if p.get("name") == port:
                return p.get("containerPort")
        return None

    def _run_probe(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, probe: ProbeState, t: float) -> None:
        inst = c.instance
        assert inst is not None
        period = float(probe.spec.get("periodSeconds") or 10)
        threshold = int(probe.spec.get("failureThreshold") or 3)
        error = self._probe_result(rt, c, probe.spec, t)
        if error is None:
            probe.failures = 0
            probe.succeeded = True
            if probe.kind == "readiness":
                c.ready = True
            # A static plan's passing probe stays passing until the instance changes: no need to poll
            # it. A running program can change its answer (a file removed, a server degrading).
            probe.next_at = (
                t + period if isinstance(inst.plan, ProgramPlan) and probe.kind != "startup" else NEVER
            )
            if probe.kind == "startup":
                c.ready = not any(p.kind == "readiness" for p in c.probes)
                for other in c.probes:
                    if other.kind != "startup":
                        other.next_at = max(
                            t, inst.started + float(other.spec.get("initialDelaySeconds") or 0)
                        )
            return
        probe.failures += 1
        kind = probe.kind.capitalize()
        self._emit(pod, "Warning", "Unhealthy", f"{kind} probe failed: {error}", c.name, rt.node)
        probe.next_at = t + period
        if probe.kind == "readiness":
            c.ready = False
        elif probe.failures >= threshold:
            why = "failed liveness probe" if probe.kind == "liveness" else "failed startup probe"
            self._emit(
                pod, "Normal", "Killing", f"Container {c.name} {why}, will be restarted", c.name, rt.node
            )
            self._terminate(rt, pod, c, t, 137, "Error")

    def _terminate(
        self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, t: float, code: int, reason: str
    ) -> None:
        inst = c.instance
        assert inst is not None
        inst.fold(t)
        inst.finished, inst.exit_code, inst.reason = t, code, reason
        inst.last_ws = inst.working_set(t)
        log = self._logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            if (
                reason == "OOMKilled"
                and inst.spec.style == "shell"
                and not isinstance(inst.plan, ProgramPlan)
            ):
                log.add(t, "Killed")
            log.finish(t)
        c.ready = False
        for p in c.probes:
            p.next_at = NEVER
        term = {
            "exitCode": code,
            "reason": reason,
            "startedAt": rfc3339(inst.started),
            "finishedAt": rfc3339(t),
            "containerID": inst.container_id,
        }
        if isinstance(inst.plan, ProgramPlan) and inst.plan.exit_message:
            term["message"] = inst.plan.exit_message
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        if policy == "Never" or (policy == "OnFailure" and code == 0):
            c.terminated, c.stage, c.next_at = term, "done", NEVER
            return
        if t - inst.started >= 2 * MAX_BACKOFF:
            c.crash_backoff = 0.0  # it ran long enough: the back-off starts over, as in the kubelet
        if c.crash_backoff == 0.0:
            c.crash_backoff = INITIAL_BACKOFF
            c.terminated = term  # shown briefly as Error / OOMKilled / Completed before the restart
            c.stage, c.next_at = "backoff", t + 1.0
            return
        delay = c.crash_backoff
        c.crash_backoff = min(c.crash_backoff * 2, MAX_BACKOFF)
        c.terminated, c.last_terminated = None, term
        c.waiting_reason = "CrashLoopBackOff"
        c.waiting_message = (
            f"back-off {human_duration(delay)} restarting failed container={c.name} "
            f"pod={rt.key[1]}_{rt.key[0]}({rt.uid})"
        )
        self._emit(
            pod,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {rt.key[1]}_{rt.key[0]}({rt.uid})",
            c.name,
            rt.node,
        )
        c.stage, c.next_at = "backoff", t + delay

    # --- programs (sandbox.profiles) --------------------------------------------------------------

    def _step_program(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """Run a container's program up to `now`: its new log lines go to the container log."""
        inst = c.instance
        assert inst is not None and isinstance(inst.plan, ProgramPlan)
        lines = inst.plan.advance(now)
        log = self._logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            for t, line in lines:
                log.add(t, line)

    def _network(self, rt: PodRuntime) -> ClusterNetwork:
        return ClusterNetwork(self._store, rt.key[0], rt.key[1], rt.ip, self.listener, self.ready_pods)

    def listener(self, namespace: str, pod: str, port: int) -> Listener | None:
        """What listens on `port` in a pod now (any of its running containers)."""
        rt = self.pods.get((namespace, pod))
        if rt is None:
            return None
        now = self._clock()
        for c in rt.containers:
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

    # --- dependencies ---------------------------------------------------------------------------

    def _check_dependencies(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        inst = c.instance
        if inst is None or inst.finished is not None:
            return
        ok, error = True, ""
        for dep in inst.plan.dependencies:
            svc = self._store.find(SERVICES, dep.namespace, dep.service, copy=False)
            if svc is None:
                ok, error = False, dependency_error(inst.spec.style, dep, known=False)
                break
            spec = svc.get("spec") or {}
            ports = [p.get("port") for p in spec.get("ports") or []]
            selector = spec.get("selector")
            reachable = dep.port in ports and (
                not selector
                or any(
                    selector_from_spec({"matchLabels": selector}).matches(labels)
                    for labels in self.ready_pods.get(dep.namespace, {}).values()
                )
            )
            if not reachable:
                ok, error = False, dependency_error(inst.spec.style, dep, known=True)
                break
        if ok == inst.deps_ok and error == inst.dep_error:
            return
        inst.fold(now)
        inst.deps_ok, inst.dep_error = ok, error
        log = self._logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            if ok:
                log.add(now, format_line(inst.spec.style, now, "INFO", "dependency connection restored"))
            else:
                log.add(now, format_line(inst.spec.style, now, "ERROR", error))
        self._set_log_mode(rt, c, now)

    def _set_log_mode(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        inst = c.instance
        log = self._logs.current(rt.key[0], rt.key[1], c.name)
        if inst is None or log is None:
            return
        rate = min(LOG_LINES_PER_SECOND, inst.plan.request_rate) if inst.plan.serves_http else 0.1
        error = inst.dep_error if not inst.deps_ok else inst.plan.error_message
        if inst.spec.style == "celery" and not inst.deps_ok:
            rate = 0.0  # a worker without its broker processes nothing
        client = f"10.244.{self.nodes[rt.node][0]}.1"
        log.set_mode(now, Mode(rate=rate, error_rate=inst.error_rate(), error=error, client_ip=client))

    # --- env ------------------------------------------------------------------------------------

    def _resolve_env(self, pod: Obj, container: dict, rt: PodRuntime) -> tuple[dict[str, str], str]:
        ns = rt.key[0]
        env: dict[str, str] = {}
        for src in container.get("envFrom") or []:
            prefix = src.get("prefix", "")
            for kind, rtype in (("configMapRef", CONFIGMAPS), ("secretRef", SECRETS)):
                ref = src.get(kind)
                if not ref:
                    continue
                obj = self._store.find(rtype, ns, ref.get("name", ""), copy=False)
                if obj is None:
                    if ref.get("optional"):
                        continue
                    return {}, f'{rtype.singular} "{ref.get("name")}" not found'
                for k, v in _data(obj, rtype is SECRETS).items():
                    env[prefix + k] = v
        for var in container.get("env") or []:
            name = var.get("name", "")
            if "value" in var or "valueFrom" not in var:
                env[name] = _expand(str(var.get("value", "")), env)
                continue
            vf = var["valueFrom"]
            for kind, rtype in (("configMapKeyRef", CONFIGMAPS), ("secretKeyRef", SECRETS)):
                ref = vf.get(kind)
                if not ref:
                    continue
                obj = self._store.find(rtype, ns, ref.get("name", ""), copy=False)
                if obj is None:
                    if ref.get("optional"):
                        break
                    return {}, f'{rtype.singular} "{ref.get("name")}" not found'
                data = _data(obj, rtype is SECRETS)
                if ref.get("key") not in data:
                    if ref.get("optional"):
                        break
                    return {}, f"couldn't find key {ref.get('key')} in {rtype.kind} {ns}/{ref.get('name')}"
                env[name] = data[ref["key"]]
            if "fieldRef" in vf:
                path = vf["fieldRef"].get("fieldPath", "")
                env[name] = {
                    "metadata.name": rt.key[1],
                    "metadata.namespace": ns,
                    "spec.nodeName": rt.node,
                    "status.podIP": rt.ip,
                    "status.hostIP": rt.host_ip,
                    "metadata.uid": rt.uid,
                    "spec.serviceAccountName": (pod.get("spec") or {}).get("serviceAccountName", "default"),
                }.get(path, "")
            if "resourceFieldRef" in vf:
                res = vf["resourceFieldRef"].get("resource", "")
                kind, _, what = res.partition(".")
                val = ((container.get("resources") or {}).get(kind) or {}).get(what, "0")
                env[name] = str(
                    memory_bytes(val) if what == "memory" else max(1, -(-cpu_millis(val) // 1000))
                )
        return env, ""

    # --- status -----------------------------------------------------------------------------

    def evict(self, key: Key, message: str) -> None:
        """Evict a pod (node pressure): kill its containers and fail it with reason Evicted."""
        rt = self.pods.get(key)
        pod = self._store.find(PODS, key[0], key[1], copy=False)
        if rt is None or pod is None or rt.final:
            return
        now = self._clock()
        self._emit(pod, "Warning", "Evicted", message, "", rt.node)
        for c in rt.containers:
            if c.instance is not None and c.instance.finished is None:
                self._emit(pod, "Normal", "Killing", f"Stopping container {c.name}", c.name, rt.node)
                inst = c.instance
                inst.fold(now)
                inst.finished, inst.exit_code, inst.reason = now, 137, "Error"
                inst.last_ws = inst.working_set(now)
                log = self._logs.current(key[0], key[1], c.name)
                if log is not None:
                    log.finish(now)
                c.terminated = {
                    "exitCode": 137,
                    "reason": "Error",
                    "startedAt": rfc3339(inst.started),
                    "finishedAt": rfc3339(now),
                    "containerID": inst.container_id,
                }
            elif c.terminated is None:
                c.terminated = {
                    "exitCode": 137,
                    "reason": "ContainerStatusUnknown",
                    "message": "The container could not be located when the pod was terminated",
                    "startedAt": None,
                    "finishedAt": None,
                }
            c.stage, c.ready, c.next_at = "done", False, NEVER
        rt.evicted = message
        self._publish(rt, pod, now)
        rt.final = True

    def usage(self, key: Key, now: float) -> float:
        """The pod's working set in bytes."""
        rt = self.pods.get(key)
        if rt is None:
            return 0.0
        return sum(
            c.instance.working_set(now) for c in rt.containers if c.instance and c.instance.finished is None
        )

    def _set_ready_index(self, rt: PodRuntime, pod: Obj, ready: bool) -> None:
        ns, name = rt.key
        bucket = self.ready_pods.setdefault(ns, {})
        was = name in bucket
        if ready:
            bucket[name] = dict(pod["metadata"].get("labels") or {})
        else:
            bucket.pop(name, None)
        if was != ready:
            for k in self._dependents.get(ns, ()):
                if k != rt.key:
                    self.mark(k)

    def _cond(
        self, rt: PodRuntime, type_: str, status: str, now: float, reason: str = "", msg: str = ""
    ) -> dict:
        old = rt.conditions.get(type_)
        if old is None or old[0] != status or old[1] != reason:
            rt.conditions[type_] = (status, reason, now, msg)
        status_, reason_, since, _ = rt.conditions[type_]
        cond = {"type": type_, "status": status_, "lastProbeTime": None, "lastTransitionTime": rfc3339(since)}
        if reason_:
            cond["reason"] = reason_
        if msg:
            cond["message"] = msg
        return cond

    def _publish(self, rt: PodRuntime, pod: Obj, now: float) -> None:
        statuses = [self._container_status(c) for c in rt.containers]
        all_ready = bool(rt.containers) and all(c.ready for c in rt.containers)
        not_ready = [c.name for c in rt.containers if not c.ready]
        unready_msg = f"containers with unready status: [{' '.join(not_ready)}]" if not_ready else ""
        ready_reason = "" if all_ready else ("PodFailed" if rt.evicted else "ContainersNotReady")
        if rt.evicted:
            unready_msg = ""
        policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
        phase = self._phase(rt, policy)
        old_status = pod.get("status") or {}
        sched = next((c for c in old_status.get("conditions") or [] if c.get("type") == "PodScheduled"), None)
        conditions = []
        if rt.evicted:
            conditions.append(
                self._cond(rt, "DisruptionTarget", "True", now, "TerminationByKubelet", rt.evicted)
            )
        conditions += [
            self._cond(
                rt,
                "PodReadyToStartContainers",
                "True" if rt.sandbox_ready and not rt.evicted else "False",
                now,
            ),
            self._cond(rt, "Initialized", "True", now),
            self._cond(rt, "Ready", "True" if all_ready else "False", now, ready_reason, unready_msg),
            self._cond(
                rt, "ContainersReady", "True" if all_ready else "False", now, ready_reason, unready_msg
            ),
        ]
        if sched is not None:
            conditions.append(sched)
        status: dict[str, Any] = {
            "phase": phase,
            "conditions": conditions,
            "hostIP": rt.host_ip,
            "hostIPs": [{"ip": rt.host_ip}],
            "podIP": rt.ip,
            "podIPs": [{"ip": rt.ip}],
            "startTime": rfc3339(rt.start_time),
            "containerStatuses": statuses,
            "qosClass": rt.qos,
        }
        if rt.evicted:
            status["reason"] = "Evicted"
            status["message"] = rt.evicted
        if status == rt.last_status:
            return
        rt.last_status = status
        self._set_ready_index(rt, pod, all_ready and phase == "Running")

        def mutate(obj: Obj) -> bool:
            if obj["metadata"].get("uid") != rt.uid or obj.get("status") == status:
                return False
            obj["status"] = status
            return True

        update_with_retry(self._store, PODS, rt.key, mutate, status_only=True)

    def _phase(self, rt: PodRuntime, policy: str) -> str:
        if rt.evicted:
            return "Failed"
        if not all(c.ever_started for c in rt.containers):
            return "Pending"
        if all(c.stage == "done" for c in rt.containers):
            return (
                "Succeeded"
                if all((c.terminated or {}).get("exitCode") == 0 for c in rt.containers)
                else "Failed"
            )
        return "Running"

    def _container_status(self, c: ContainerRuntime) -> dict:
        image = c.spec.get("image", "")
        inst = c.instance
        status: dict[str, Any] = {
            "name": c.name,
            "ready": c.ready,
            "restartCount": c.restart_count,
            "image": image,
            "imageID": "",
            "started": False,
            "lastState": {"terminated": c.last_terminated} if c.last_terminated else {},
        }
        if c.image is not None:
            try:
                status["image"] = canonical_reference(image)
                status["imageID"] = canonical_reference(image).rsplit(":", 1)[0] + "@" + c.image.digest
            except ValueError:
                pass
        if inst is not None:
            status["containerID"] = inst.container_id
        if c.stage == "running" and inst is not None:
            status["state"] = {"running": {"startedAt": rfc3339(inst.started)}}
            status["started"] = True
        elif c.terminated is not None:
            status["state"] = {"terminated": c.terminated}
        else:
            waiting = {"reason": c.waiting_reason or "ContainerCreating"}
            if c.waiting_message:
                waiting["message"] = c.waiting_message
            status["state"] = {"waiting": waiting}
        return status

    def _emit(self, pod: Obj, type_: str, reason: str, message: str, container: str, node: str) -> None:
        field_path = f"spec.containers{{{container}}}" if container else ""
        self._recorder.emit(pod, type_, reason, message, Source("kubelet", node), field_path)


def _data(obj: Obj, secret: bool) -> dict[str, str]:
    data = dict(obj.get("data") or {})
    if secret:
        out = {}
        for k, v in data.items():
            try:
                out[k] = base64.b64decode(v).decode()
            except (ValueError, UnicodeDecodeError):
                out[k] = ""
        out.update(obj.get("stringData") or {})
        return out
    return {k: str(v) for k, v in data.items()}


_VAR = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _expand(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` expansion as the kubelet does it (unknown references stay as written)."""
    return _VAR.sub(lambda m: env.get(m.group(1), m.group(0)), value)
