"""A container's life once its image is there: create and start it with the program's `Plan`, run it
(probes, dependencies, its exit), terminate it, and restart it under the pod's restartPolicy with
CrashLoopBackOff (10s doubling to 5m, reset after a long enough run).

A public image's container (and any container running a shell) gets a `ProgramPlan` from
`sandbox.profiles.launch`: a simulated process stepped over simulated time, whose log lines, exit
and listeners come from what the program really does. The sandbox's own apps keep static plans.
"""

from __future__ import annotations

from sandbox.clock import human_duration, rfc3339
from sandbox.controllers.kubelet.dependencies import Dependencies
from sandbox.controllers.kubelet.probes import run_probe
from sandbox.controllers.kubelet.runtime import (
    INITIAL_BACKOFF,
    MAX_BACKOFF,
    READY_AFTER,
    ContainerRuntime,
    Instance,
    KubeletContext,
    PodRuntime,
    ProbeState,
)
from sandbox.controllers.quantity import memory_bytes
from sandbox.controllers.workload import NEVER, plan_instance
from sandbox.logs import format_line
from sandbox.profiles.launch import ProgramPlan, launch
from sandbox.store import Obj


class ContainerLifecycle:
    """The `create`, `running` and `backoff` stages of a container."""

    def __init__(self, ctx: KubeletContext, deps: Dependencies) -> None:
        self._ctx = ctx
        self._deps = deps

    def create(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """Create and start a new instance; its plan says what the program will do."""
        ctx = self._ctx
        assert c.image is not None
        limit = memory_bytes(((c.spec.get("resources") or {}).get("limits") or {}).get("memory"))
        program = launch(c.image, pod, c.spec, c.env, limit, now, ctx.store, ctx.network(rt))
        plan = program or plan_instance(c.image, c.spec, c.env, limit, rt.key[0], ctx.rng)
        number = (c.instance.number + 1) if c.instance else 0
        cid = "containerd://" + "".join(ctx.rng.choice("0123456789abcdef") for _ in range(64))
        if c.instance is not None:
            c.restart_count += 1
        if c.terminated is not None:
            c.last_terminated, c.terminated = c.terminated, None
        ctx.emit(pod, "Normal", "Created", f"Created container: {c.name}", c.name, rt.node)
        ctx.emit(pod, "Normal", "Started", f"Started container {c.name}", c.name, rt.node)
        inst = Instance(number, now, plan, c.image, cid, seg_start=now)
        c.instance = inst
        c.stage, c.next_at, c.terminated, c.ever_started = "running", NEVER, None, True
        c.waiting_reason = c.waiting_message = ""
        log = ctx.logs.start(rt.key[0], rt.key[1], c.name, number, c.image.style, now)
        log.quiet_until = now + plan.listen_after
        for offset, line in sorted(
            plan.raw_lines
            + [(o, format_line(c.image.style, now + o, lvl, msg)) for o, lvl, msg in plan.lines]
        ):
            log.add(now + max(offset, 0.0), line)
        if isinstance(plan, ProgramPlan):
            self.step_program(rt, c, now)
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
        c.ready = False
        c.ready_at = NEVER if any(p.kind in ("readiness", "startup") for p in c.probes) else now + READY_AFTER
        self._deps.track(rt, c, now)

    def backoff(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """The restart back-off is over: resolve the config again, then pull and start."""
        c.stage, c.next_at = "config", now

    def run(self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, now: float) -> None:
        """Bring a running instance up to `now`: dependencies, due probes, then its exit if it is due."""
        inst = c.instance
        assert inst is not None
        program = isinstance(inst.plan, ProgramPlan)
        if program:  # up to the relist or the first due probe: they see the program as it is then
            self.step_program(rt, c, min([now, c.ready_at, *(p.next_at for p in c.probes)]))
        exit_at = inst.started + inst.plan.exit_after
        if c.ready_at <= now and c.ready_at < exit_at:
            c.ready, c.ready_at = True, NEVER
        if inst.plan.dependencies:
            self._deps.check(rt, c, min(now, exit_at))
        while c.stage == "running":
            due = [p for p in c.probes if p.next_at <= now and p.next_at < exit_at]
            if due:
                probe = min(due, key=lambda p: p.next_at)
                at = probe.next_at  # run_probe moves next_at on: the kill happens at the probe's time
                if program:
                    self.step_program(rt, c, at)
                    exit_at = inst.started + inst.plan.exit_after
                    if exit_at <= at:
                        continue  # the program exited before this probe ran
                if run_probe(self._ctx, rt, pod, c, probe, at):
                    self.terminate(rt, pod, c, at, 137, "Error")
                continue
            if program and exit_at > now:
                self.step_program(rt, c, now)
                exit_at = inst.started + inst.plan.exit_after
            if now >= exit_at:
                self.terminate(rt, pod, c, exit_at, inst.plan.exit_code, inst.plan.exit_reason)
            break

    def terminate(
        self, rt: PodRuntime, pod: Obj, c: ContainerRuntime, t: float, code: int, reason: str
    ) -> None:
        """The instance ended at `t`: done for good, or a restart after the crash back-off."""
        inst = c.instance
        assert inst is not None
        inst.fold(t)
        inst.finished, inst.exit_code, inst.reason = t, code, reason
        inst.last_ws = inst.working_set(t)
        log = self._ctx.logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            # A static plan's shell wrapper reports its killed child; a program is killed whole
            # (the cgroup OOM killer takes every process), so nothing is left to print it.
            program = isinstance(inst.plan, ProgramPlan)
            if reason == "OOMKilled" and inst.spec.style == "shell" and not program:
                log.add(t, "Killed")
            log.finish(t)
        c.ready, c.ready_at = False, NEVER
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
        policy = restart_policy(pod, c)
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
        self._ctx.emit(
            pod,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod {rt.key[1]}_{rt.key[0]}({rt.uid})",
            c.name,
            rt.node,
        )
        c.stage, c.next_at = "backoff", t + delay

    def step_program(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """Run a container's program up to `now`: its new log lines go to the container log."""
        inst = c.instance
        assert inst is not None and isinstance(inst.plan, ProgramPlan)
        lines = inst.plan.advance(now)
        log = self._ctx.logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            for t, line in lines:
                log.add(t, line)


def restart_policy(pod: Obj, c: ContainerRuntime) -> str:
    """The restart policy that applies to a container: a sidecar always restarts, an init container
    restarts on failure unless the pod's policy is Never, an app container follows the pod."""
    pod_policy = (pod.get("spec") or {}).get("restartPolicy") or "Always"
    if c.sidecar:
        return "Always"
    if c.init:
        return "Never" if pod_policy == "Never" else "OnFailure"
    return pod_policy
