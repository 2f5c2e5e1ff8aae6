"""Is a workload healthy right now? A pure judgement of one `WorkloadStatus` snapshot.

Healthy means the rollout is complete and every pod serves: the controller has seen the latest
spec, every desired replica is updated, ready and available, no old replica is left, and no live
pod is unready or has a container waiting (CrashLoopBackOff, ImagePullBackOff...). Whether
restart counts hold still is a matter of time, so verification compares snapshots itself.

A Service (a run that followed one) is healthy when it serves: its selector matches pods and at
least one of them is ready, i.e. it has a ready endpoint (`judge_service`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.kubernetes import ServiceStatus, WorkloadStatus
from tools.scan.objects import label_text


@dataclass(frozen=True)
class Health:
    """One snapshot's verdict and, when unhealthy, what is wrong (most telling first)."""

    healthy: bool
    problems: tuple[str, ...] = ()
    healthy_detail: str = "rollout complete, all pods ready"

    @property
    def detail(self) -> str:
        """The verdict in one line."""
        return self.healthy_detail if self.healthy else "; ".join(self.problems)


def judge(status: WorkloadStatus) -> Health:
    """The health of `status` (see the module docstring for what healthy means)."""
    problems: list[str] = []
    live = [p for p in status.pods if not p.deleting]
    for pod in live:
        waiting = [c for c in pod.containers if c.state == "waiting" and c.reason]
        for container in waiting:
            problems.append(f"pod {pod.name} container {container.name} is waiting: {container.reason}")
        if not pod.ready and not waiting:
            problems.append(f"pod {pod.name} is not ready ({pod.phase or 'unknown phase'})")
    desired = status.desired
    if desired is None:
        problems.append("the workload reports no desired replica count")
    elif desired == 0:
        problems.append("scaled to zero: no replica serves")
    else:
        for name, value in (
            ("updated", status.updated),
            ("ready", status.ready),
            ("available", status.available),
        ):
            if (value or 0) < desired:
                problems.append(f"{value or 0}/{desired} replicas {name}")
        if status.current is not None and status.current > desired:
            problems.append(f"{status.current - desired} old replica(s) still running")
    if status.unavailable:
        problems.append(f"{status.unavailable} replica(s) unavailable")
    if (
        status.generation is not None
        and status.observed_generation is not None
        and status.observed_generation < status.generation
    ):
        problems.append("the controller has not seen the latest spec yet")
    if status.paused:
        problems.append("the rollout is paused")
    return Health(not problems, tuple(dict.fromkeys(problems)))


def judge_service(status: ServiceStatus) -> Health:
    """The health of a Service: it has a selector, and a ready pod among those it selects."""
    if not status.selector:
        return Health(False, ("the Service has no selector: its endpoints cannot be judged from pods",))
    selected = status.selected
    selector = label_text(status.selector)
    if not selected:
        return Health(False, (f"the selector {selector} matches no pod: no endpoints",))
    if status.ready_endpoints == 0:
        return Health(False, (f"the selector {selector} matches {len(selected)} pod(s), none ready",))
    return Health(
        True, healthy_detail=f"{status.ready_endpoints} ready endpoint(s) of {len(selected)} selected pod(s)"
    )
