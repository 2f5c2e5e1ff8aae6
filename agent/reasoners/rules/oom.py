"""oom: containers OOMKilled (exit 137) and failing for it now, corroborated by a working set at the
memory limit.

Signature: a container OOMKilled (its reason, or an OOM event) AND the kills ongoing (the workload
failing now, repeated kills, or OOM events). An OOM kill on a workload that runs fine now is history,
not the incident (partial); so is exit 137 with a full working set but no OOMKilled reason.

The fix restores the memory limit the workload last worked with: the value of the revision whose
pods are still ready, else the value before the run of commits that cut it (a limit cut over two
commits goes back to the value before the first, in one patch); else reverts the newest commit
that lowered it; else raises the limit by the policy's factor, up to its cap.
"""

from __future__ import annotations

import re
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.history import FieldChange, KnownGood
from agent.reasoners.rules.observations import MetricObs, find_container
from agent.reasoners.rules.quantity import format_mebibytes, try_parse_quantity

_OOM_EVENT = re.compile(r"OOMKill|out of memory|Memory cgroup out of memory", re.IGNORECASE)
_WORKING_SET = re.compile(r"memory_working_set|memory_usage|memory_rss", re.IGNORECASE)
_MEMORY_LINE = re.compile(r"^\s*memory\s*:\s*['\"]?([0-9.]+[A-Za-z]*)")


def oom(ctx: RuleContext) -> Finding | None:
    """OOMKilled containers (exit 137) failing now, corroborated by working set at the memory limit."""
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
    container = (
        next((c.name for c in killed if c.name), None)
        or next((m.container for m in metrics if m.container), None)
        or ctx.only_container()
    )
    limit = _current_memory_limit(ctx, container, metrics)
    # Ongoing: the workload fails now, the kills repeat, the kubelet reports them as events, or the
    # container was killed running with less memory than it last worked with (a fresh kill after a
    # cut, caught while the restarted container is up for a moment). One old OOM kill on a container
    # that has run fine since, with the limit it always had, is history.
    cut = bool(killed) and container is not None and _good_limit(ctx, container, limit) is not None
    ongoing = view.failing_now() or bool(events) or any(c.restart_count >= 2 for c in killed) or cut
    missing = []
    if not killed and not events:
        missing.append("an OOMKilled reason or OOM event (only exit 137 with a full working set)")
    if not ongoing:
        missing.append("a container failing now (the OOM kill is history)")
    confidence = 0.85 + (0.05 if exit137 or any(c.exit_code == 137 for c in killed) else 0.0)
    confidence += 0.05 if metrics else 0.0
    cited = cite(killed, events, metrics, exit137)
    facts = f"container {container or '?'} was OOMKilled"
    if killed and killed[0].restart_count:
        facts += f" ({killed[0].restart_count} restarts)"
    if metrics and metrics[0].limit:
        facts += (
            f"; working set peaked at {format_mebibytes(metrics[0].peak or 0)} of a "
            f"{format_mebibytes(metrics[0].limit)} limit"
        )
    remediation, fix_ids = _fix(ctx, container, limit)
    return Finding(
        rule="oom",
        category=RootCause.OOM,
        confidence=min(confidence, 0.95),
        explanation=facts.capitalize() + ": the memory limit is too low for the workload.",
        faulty_resource=ctx.workload,
        faulty_field=fields.resource(container, "limits", "memory") if container else None,
        remediation=remediation,
        cited=cite(cited, fix_ids),
        missing=tuple(missing),
    )


def _limit_of(container: str) -> history.Getter:
    def read(pod_spec: dict[str, Any]) -> Any:
        spec = find_container(pod_spec, container) or {}
        return ((spec.get("resources") or {}).get("limits") or {}).get("memory")

    return read


def _fix(
    ctx: RuleContext, container: str | None, limit: float | None
) -> tuple[ProposedRemediation, tuple[str, ...]]:
    if container is not None:
        good = _good_limit(ctx, container, limit)
        if good is not None:
            return _restore(container, limit, good), good.cited
    changes = _memory_changes(ctx)
    lowered = next((c for c in changes if _lowers(c)), None)
    if lowered is not None:
        sha = lowered.commit.sha
        why = f"commit {sha[:12]} lowered the memory limit the workload ran with"
        return remedies.revert_commit(sha, why), (lowered.commit.item_id,)
    return _raise_memory(ctx, container, limit), ()


def _good_limit(ctx: RuleContext, container: str, limit: float | None) -> KnownGood | None:
    """The limit the workload last worked with, when it is more than now: from the revision still
    serving, else from before the run of commits that cut it."""
    from_revision = history.known_good(ctx.view, _limit_of(container))
    if from_revision is not None and _more(from_revision.value, limit):
        return from_revision
    run = history.change_run(_memory_changes(ctx), _lowers, _leads_into)
    if run:
        first = run[-1]
        value = max(first.before, key=lambda q: try_parse_quantity(q) or 0.0)
        if _more(value, limit):
            shas = ", ".join(c.commit.sha[:12] for c in reversed(run))
            return KnownGood(value, f"before commit(s) {shas}", tuple(c.commit.item_id for c in run), False)
    return None


def _memory_changes(ctx: RuleContext) -> list[FieldChange]:
    return history.field_changes(ctx.view, _MEMORY_LINE)


def _lowers(change: FieldChange) -> bool:
    before = [q for v in change.before if (q := try_parse_quantity(v)) is not None]
    after = [q for v in change.after if (q := try_parse_quantity(v)) is not None]
    return bool(before and after and min(after) < max(before))


def _leads_into(older: FieldChange, newer: FieldChange) -> bool:
    """The older cut left the value the newer one started from."""
    return bool(set(older.after) & set(newer.before))


def _more(value: Any, limit: float | None) -> bool:
    quantity = try_parse_quantity(value)
    return quantity is not None and (limit is None or quantity > limit)


def _restore(container: str, limit: float | None, good: KnownGood) -> ProposedRemediation:
    patch = remedies.container_patch(container, {"resources": {"limits": {"memory": good.value}}})
    old = format_mebibytes(limit) if limit else "?"
    return remedies.gitops_pr(
        patch,
        f"restore the memory limit of {container} to {good.value}, what it ran with at {good.source}",
        container=container,
        field="resources.limits.memory",
        old=old,
        new=good.value,
        source=good.source,
    )


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
