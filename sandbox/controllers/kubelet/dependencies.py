"""A program's network dependencies: which pods are Ready behind which labels, whether the Services a
program connects to reach one, and the log and error rate that follow ("connection refused")."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.controllers.base import Key
from sandbox.controllers.kubelet.runtime import ContainerRuntime, KubeletContext, PodRuntime
from sandbox.controllers.workload import dependency_error
from sandbox.logs import Mode, format_line
from sandbox.resources import SERVICES
from sandbox.selectors import selector_from_spec
from sandbox.store import Obj

LOG_LINES_PER_SECOND = 1.0  # background access lines are sampled, not one per request


class Dependencies:
    """The Ready-pod index and the pods that depend on each namespace's Services."""

    def __init__(self, ctx: KubeletContext, mark: Callable[[Key], None]) -> None:
        self._ctx = ctx
        self._mark = mark
        self.ready_pods: dict[str, dict[str, dict]] = {}  # namespace -> pod name -> labels
        self._dependents: dict[str, set[Key]] = {}  # dependency namespace -> pods depending on it

    def dependents(self, namespace: str) -> set[Key]:
        """Pods whose programs reach a Service in `namespace`."""
        return self._dependents.get(namespace, set())

    def forget(self, key: Key) -> None:
        """A pod is gone: it depends on nothing any more."""
        for waiters in self._dependents.values():
            waiters.discard(key)

    def set_ready(self, rt: PodRuntime, pod: Obj, ready: bool) -> None:
        """Record whether a pod is Ready (a Service endpoint); wake its dependents when that changes."""
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
                    self._mark(k)

    def track(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """A container started: remember what it depends on and check it now."""
        inst = c.instance
        if inst is not None and inst.plan.dependencies:
            for dep in inst.plan.dependencies:
                self._dependents.setdefault(dep.namespace, set()).add(rt.key)
            self.check(rt, c, now)
        self.set_log_mode(rt, c, now)

    def check(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """Whether every dependency has a Ready endpoint; log and change the error rate on a change."""
        inst = c.instance
        if inst is None or inst.finished is not None:
            return
        ok, error = True, ""
        for dep in inst.plan.dependencies:
            svc = self._ctx.store.find(SERVICES, dep.namespace, dep.service, copy=False)
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
        log = self._ctx.logs.current(rt.key[0], rt.key[1], c.name)
        if log is not None:
            if ok:
                log.add(now, format_line(inst.spec.style, now, "INFO", "dependency connection restored"))
            else:
                log.add(now, format_line(inst.spec.style, now, "ERROR", error))
        self.set_log_mode(rt, c, now)

    def set_log_mode(self, rt: PodRuntime, c: ContainerRuntime, now: float) -> None:
        """The background log lines of a serving program: access lines, errors at its error rate."""
        inst = c.instance
        log = self._ctx.logs.current(rt.key[0], rt.key[1], c.name)
        if inst is None or log is None:
            return
        rate = min(LOG_LINES_PER_SECOND, inst.plan.request_rate) if inst.plan.serves_http else 0.1
        error = inst.dep_error if not inst.deps_ok else inst.plan.error_message
        if inst.spec.style == "celery" and not inst.deps_ok:
            rate = 0.0  # a worker without its broker processes nothing
        client = f"10.244.{self._ctx.nodes[rt.node][0]}.1"
        log.set_mode(now, Mode(rate=rate, error_rate=inst.error_rate(), error=error, client_ip=client))
