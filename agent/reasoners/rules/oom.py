"""oom: containers OOMKilled (exit 137), corroborated by a working set at the memory limit.

The fix reverts the commit that lowered the memory limit when there is one (the value before it is
known to have worked), else raises the limit by the policy's factor, up to its cap.
"""

from __future__ import annotations

import re

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import CommitObs, MetricObs
from agent.reasoners.rules.quantity import format_mebibytes, try_parse_quantity

_OOM_EVENT = re.compile(r"OOMKill|out of memory|Memory cgroup out of memory", re.IGNORECASE)
_WORKING_SET = re.compile(r"memory_working_set|memory_usage|memory_rss", re.IGNORECASE)
_MEMORY_LINE = re.compile(r"^\s*memory\s*:\s*['\"]?([0-9.]+[A-Za-z]*)")


def oom(ctx: RuleContext) -> Finding | None:
    """OOMKilled containers (exit 137), corroborated by working set at the memory limit."""
    view = ctx.view
    killed = [c for c in view.containers if "OOMKilled" in c.reasons]
    events = view.events_matching(_OOM_EVENT, ("OOMKilling", "OOMKilled", "SystemOOM", "BackOff", "Killing"))
    metrics = [
        m
        for m in view.metrics
        if _WORKING_SET.search(m.name) and m.limit and m.peak is not None and m.peak >= 0.9 * m.limit
    ]
    exit137 = [c for c in view.containers if c.exit_code == 137]
    if not killed and not events and not (metrics and exit137):
        return None
    if killed or events:
        confidence = 0.85 + (0.05 if exit137 or any(c.exit_code == 137 for c in killed) else 0.0)
        confidence += 0.05 if metrics else 0.0
    else:
        confidence = 0.6  # exit 137 with a full working set, but no OOMKilled reason shown
    container = (
        next((c.name for c in killed if c.name), None)
        or next((m.container for m in metrics if m.container), None)
        or ctx.only_container()
    )
    cited = cite(killed, events, metrics, exit137)
    limit = _current_memory_limit(ctx, container, metrics)
    facts = f"container {container or '?'} was OOMKilled"
    if killed and killed[0].restart_count:
        facts += f" ({killed[0].restart_count} restarts)"
    if metrics and metrics[0].limit:
        facts += (
            f"; working set peaked at {format_mebibytes(metrics[0].peak or 0)} of a "
            f"{format_mebibytes(metrics[0].limit)} limit"
        )
    lowered = _memory_lowering_commit(ctx)
    if lowered is not None:
        remediation: ProposedRemediation = remedies.revert_commit(
            lowered.sha, f"commit {lowered.sha[:12]} lowered the memory limit the workload ran with"
        )
        cited = (*cited, lowered.item_id)
    else:
        remediation = _raise_memory(ctx, container, limit)
    return Finding(
        rule="oom",
        category=RootCause.OOM,
        confidence=min(confidence, 0.95),
        explanation=facts.capitalize() + ": the memory limit is too low for the workload.",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, "resources.limits.memory") if container else None,
        remediation=remediation,
        cited=cited,
    )


def _memory_lowering_commit(ctx: RuleContext) -> CommitObs | None:
    """The newest recent commit that lowered a memory value: reverting it restores what ran fine.

    A raise of the limit by guesswork (`_raise_memory`) may still fall short; the value before
    the commit is known to have worked.
    """
    for commit in ctx.view.commits:
        removed = [_MEMORY_LINE.search(line[1:]) for line in commit.changed_lines() if line.startswith("-")]
        added = [_MEMORY_LINE.search(line[1:]) for line in commit.changed_lines() if line.startswith("+")]
        before = [q for m in removed if m and (q := try_parse_quantity(m.group(1))) is not None]
        after = [q for m in added if m and (q := try_parse_quantity(m.group(1))) is not None]
        if before and after and min(after) < max(before):
            return commit
    return None


def _current_memory_limit(ctx: RuleContext, container: str | None, metrics: list[MetricObs]) -> float | None:
    if container:
        spec = ctx.view.container_spec(container) or {}
        limit = try_parse_quantity(spec.get("resources", {}).get("limits", {}).get("memory"))
        if limit:
            return limit
    return next((m.limit for m in metrics if m.limit), None)


def _raise_memory(ctx: RuleContext, container: str | None, limit: float | None) -> ProposedRemediation:
    if container is None or limit is None:
        return remedies.notify("OOM kills seen, but the container or its memory limit is not visible")
    cap = ctx.policy.memory_cap_bytes
    if limit >= cap:
        return remedies.notify(
            f"memory limit {format_mebibytes(limit)} is already at the cap {format_mebibytes(cap)}; "
            "a leak or a sizing decision needs a human"
        )
    new = format_mebibytes(min(limit * ctx.policy.memory_factor, cap))
    patch = remedies.container_patch(container, {"resources": {"limits": {"memory": new}}})
    return remedies.gitops_pr(
        patch,
        f"raise the memory limit of {container} from {format_mebibytes(limit)} to {new}",
        container=container,
        field="resources.limits.memory",
        old=format_mebibytes(limit),
        new=new,
    )
