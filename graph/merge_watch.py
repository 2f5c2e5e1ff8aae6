"""Following a pull request a run waits on: what the run waits for, how the wait ends, and one look.

A run that opened a pull request a human must merge stops at the `merge_gate` node's `interrupt()`
with a `MergeWaitRequest`; the checkpoint keeps it, so the wait survives a restart and holds no
worker. Whoever hosts runs (the server's merge follower, `server.run_service`) calls `observe`
every so often with the run's context and resumes the run with the `MergeWaitAnswer` it returns,
once there is one. In order of precedence:

1. the pull request was merged -> `merged` (verification follows), closed unmerged -> `closed`;
2. the deadline (opened + `HealingContext.merge_timeout`) passed -> `timeout` (escalated);
3. the workload (and the dependency the run followed, if any) has been healthy, with no container
   restarting, for `verify.stable_seconds` -> `recovered` (ended without a change).

A pull request that cannot be read (the provider is down) keeps the run waiting, but the deadline
still holds. Time is the context's clock, so a sandbox's simulated time drives the deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.domain import WorkloadRef
from graph.context import HealingContext
from graph.workload_health import judge
from tools.result import TraceSink, discard

WAIT_KIND: Literal["merge"] = "merge"


class MergeWaitRequest(BaseModel):
    """What a run waiting on a pull request waits for (the `interrupt()` payload, as JSON)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["merge"] = WAIT_KIND
    run_id: str
    attempt: int = Field(ge=1)
    pr_number: int = Field(ge=1)
    pr_url: str
    targets: list[WorkloadRef] = Field(description="The workloads whose recovery ends the wait.")
    since: datetime
    deadline: datetime


class MergeWaitAnswer(BaseModel):
    """How the wait ended: the resume value (`Command(resume=...)`)."""

    model_config = ConfigDict(frozen=True)

    status: Literal["merged", "closed", "recovered", "timeout"]
    by: str = Field(default="", max_length=200, description="Who merged or closed it, when known.")
    detail: str = Field(default="", max_length=4000)
    merge_sha: str | None = Field(default=None, max_length=64)


@dataclass
class Watching:
    """What the follower remembers of one waiting run between looks (in memory: a restart only
    restarts the window in which the workload must stay healthy)."""

    healthy_since: datetime | None = None
    restarts: dict[str, int] = field(default_factory=dict)


def observe(
    ctx: HealingContext, request: MergeWaitRequest, memory: Watching, *, sink: TraceSink = discard
) -> MergeWaitAnswer | None:
    """One look at the pull request, the deadline and the workload; None while the run should wait."""
    now = ctx.clock()
    number = request.pr_number
    if ctx.repo is not None:
        found = ctx.repo.get_pull_request(number)
        pull = found.data if found.ok else None
        if pull is not None and pull.state == "merged":
            who = f" by {pull.merged_by}" if pull.merged_by else ""
            return MergeWaitAnswer(
                status="merged",
                by=pull.merged_by or "",
                merge_sha=pull.merge_sha,
                detail=f"pull request #{number} was merged into {pull.base}{who}",
            )
        if pull is not None and pull.state == "closed":
            who = f" by {pull.closed_by}" if pull.closed_by else ""
            detail = f"pull request #{number} was closed unmerged{who}"
            return MergeWaitAnswer(status="closed", by=pull.closed_by or "", detail=detail)
    if now >= request.deadline:
        waited = (now - request.since).total_seconds()
        return MergeWaitAnswer(
            status="timeout", detail=f"pull request #{number} was neither merged nor closed in {waited:.0f}s"
        )
    healthy = _healthy(ctx, request, memory, sink)
    if healthy is None:
        memory.healthy_since = None
        return None
    memory.healthy_since = memory.healthy_since or now
    stable = (now - memory.healthy_since).total_seconds()
    if stable >= ctx.verify.stable_seconds:
        return MergeWaitAnswer(
            status="recovered",
            detail=f"{healthy} for {stable:.0f}s without pull request #{number}; nothing was changed",
        )
    return None


def _healthy(ctx: HealingContext, request: MergeWaitRequest, memory: Watching, sink: TraceSink) -> str | None:
    """The health of every watched workload in one line when all are healthy with no restart since
    the last look, else None."""
    if ctx.cluster is None:
        return None
    details: list[str] = []
    restarts: dict[str, int] = {}
    for target in request.targets:
        status = ctx.cluster.status(target, sink=sink)
        if not status.ok or status.data is None:
            return None
        health = judge(status.data)
        if not health.healthy:
            return None
        restarts.update({f"{target}/{p.name}": p.restarts for p in status.data.pods if not p.deleting})
        details.append(f"{target}: {health.detail}")
    grew = any(count > memory.restarts.get(name, count) for name, count in restarts.items())
    memory.restarts = restarts
    return None if grew else "; ".join(details)
