"""scaled_to_zero: the workload wants zero replicas.

Signature: the workload's desired replicas are 0 (its status, else its manifest): that alone is
whole, since nothing else makes a Deployment want no pods. When the watcher saw running workloads
reach its Service, the outage is theirs too: that is `dependency_down` (rules/dependency_down.py),
fixed the same way. A DaemonSet wanting none is not scaled (it has no replica count): no node admits
its pods, which is `unschedulable`'s.

The previous count comes from events, metrics or the commit that set zero; the fix reverts that
commit, else scales back to the previous count, else asks humans for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent import incident_labels
from agent.domain import ProposedRemediation, RootCause
from agent.incident_labels import watcher_facts
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import CommitObs

_SCALED_DOWN = re.compile(r"Scaled down replica set \S+ (?:from (?P<a>\d+) )?to 0(?: from (?P<b>\d+))?")
_REPLICAS_LINE = re.compile(r"^\s*replicas:\s*(\d+)")


def _sets_zero_replicas(commit: CommitObs) -> bool:
    return any(
        line.startswith("+") and (m := _REPLICAS_LINE.match(line[1:])) and m.group(1) == "0"
        for line in commit.changed_lines()
    )


@dataclass(frozen=True)
class ZeroReplicas:
    """A workload that wants zero replicas: how many it ran before, and how to bring them back."""

    previous: int | None
    remediation: ProposedRemediation
    confidence: float
    cited: tuple[str, ...]


def zero_replicas(ctx: RuleContext) -> ZeroReplicas | None:
    """The target wants zero replicas: the previous count (events, metrics or the commit that set
    zero) and the fix (revert that commit, else scale back, else ask); None when it wants some."""
    view = ctx.view
    if view.target.kind == "DaemonSet":
        return None  # nobody scales a DaemonSet: it wants one pod per node its pods may run on
    desired, status_id = view.desired_replicas()
    if desired != 0:
        return None
    previous, cited = None, [status_id] if status_id else []
    for event in view.events:
        match = _SCALED_DOWN.search(event.message)
        if match:
            cited.append(event.item_id)
            count = match.group("a") or match.group("b")
            previous = previous or (int(count) if count and int(count) > 0 else None)
    for metric in view.metrics:
        if "replicas" in metric.name and metric.previous:
            previous = previous or int(metric.previous)
            cited.append(metric.item_id)
    commit = next((c for c in view.live_commits if _sets_zero_replicas(c)), None)
    if commit is not None:
        removed = [
            int(m.group(1))
            for line in commit.changed_lines()
            if line.startswith("-") and (m := _REPLICAS_LINE.match(line[1:]))
        ]
        previous = previous or (removed[0] if removed and removed[0] > 0 else None)
        cited.append(commit.item_id)
        remediation: ProposedRemediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} set replicas to 0", replicas=previous
        )
        confidence = 0.9
    elif previous:
        remediation = remedies.scale(previous, f"scale back to the previous {previous} replicas")
        confidence = 0.9
    else:
        remediation = remedies.notify("scaled to zero; the previous replica count is not in the evidence")
        confidence = 0.6
    return ZeroReplicas(previous, remediation, confidence, cite(cited))


def dependants(ctx: RuleContext) -> list[str]:
    """The running workloads the watcher saw reaching the target's Service (its own facts only)."""
    if ctx.incident.target != ctx.view.target:
        return []  # the facts are about the incident's workload, not one this run followed to
    named = watcher_facts(ctx.incident).get(incident_labels.DEPENDANTS, "")
    return [n.strip() for n in named.split(",") if n.strip()]


def scaled_to_zero(ctx: RuleContext) -> Finding | None:
    """The workload wants zero replicas and nothing running depends on it (else: dependency_down)."""
    zero = zero_replicas(ctx)
    if zero is None or dependants(ctx):
        return None
    previous = zero.previous
    return Finding(
        rule="scaled_to_zero",
        category=RootCause.SCALED_TO_ZERO,
        confidence=zero.confidence,
        explanation="The workload is scaled to 0 replicas"
        + (f" (it ran {previous} before)." if previous else "."),
        faulty_resource=ctx.workload,
        faulty_field=fields.REPLICAS,
        remediation=zero.remediation,
        cited=zero.cited,
    )
