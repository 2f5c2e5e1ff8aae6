"""unschedulable: pods stuck Pending, e.g. "0/3 nodes are available: 3 Insufficient memory."

The fix lowers the largest request of the short resource: to what a schedulable revision asked for
(acted on), else to a share of the largest node's allocatable (a guess, so below the act threshold).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.quantity import MI, format_cpu, format_mebibytes, try_parse_quantity
from agent.reasoners.rules.scheduling import FAILED_SCHEDULING, INSUFFICIENT, PRESSURE_TAINT

# How sure the fix is, by where the lowered request comes from.
_FIX_CONFIDENCE = {"revision": 0.9, "allocatable": 0.7}


@dataclass(frozen=True)
class _RequestsFix:
    remediation: ProposedRemediation
    container: str | None = None
    cited: tuple[str, ...] = ()
    source: str | None = None  # where the new request comes from: "revision" or "allocatable"


def unschedulable(ctx: RuleContext) -> Finding | None:
    """Pods stuck Pending: FailedScheduling, e.g. '0/3 nodes are available: 3 Insufficient memory.'"""
    view = ctx.view
    events = view.events_matching(FAILED_SCHEDULING, ("FailedScheduling",))
    pending = [
        p
        for p in view.pods
        if p.phase == "Pending" and (c := p.condition("PodScheduled")) and c.status == "False"
    ]
    if not events and not pending:
        return None
    messages = " ".join(e.message for e in events) + " ".join(
        c.message if (c := p.condition("PodScheduled")) else "" for p in pending
    )
    if PRESSURE_TAINT.search(messages) and not INSUFFICIENT.search(messages):
        return None  # node pressure, not the workload's own sizing
    resources = sorted(set(INSUFFICIENT.findall(messages)))
    confidence = 0.9 if events else 0.75
    fix = _lower_requests(ctx, resources)
    fix_conf = _FIX_CONFIDENCE.get(fix.source or "", confidence)
    why = f"insufficient {', '.join(resources)}" if resources else "no node matches the pod's constraints"
    container = fix.container
    return Finding(
        rule="unschedulable",
        category=RootCause.UNSCHEDULABLE,
        confidence=min(confidence, fix_conf),
        explanation=f"Pods cannot be scheduled: {why}.",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, f"resources.requests.{resources[0]}")
        if container and resources
        else None,
        remediation=fix.remediation,
        cited=cite(events, pending, fix.cited),
    )


def _lower_requests(ctx: RuleContext, resources: list[str]) -> _RequestsFix:
    view = ctx.view
    resource = next((r for r in resources if r in ("memory", "cpu")), None)
    if resource is None:
        return _RequestsFix(
            remedies.notify("scheduling constraints (affinity, taints, volumes) need a human")
        )
    requests: dict[str, float] = {}
    for name in view.container_names():
        spec = view.container_spec(name) or {}
        quantity = try_parse_quantity((spec.get("resources") or {}).get("requests", {}).get(resource))
        if quantity:
            requests[name] = quantity
    if not requests:
        return _RequestsFix(remedies.notify(f"insufficient {resource}, but the requests are not visible"))
    container = max(requests, key=lambda n: requests[n])
    current = requests[container]
    fmt = format_mebibytes if resource == "memory" else format_cpu
    previous = view.previous_revision
    old = try_parse_quantity(
        (((previous.container(container) if previous else None) or {}).get("resources") or {})
        .get("requests", {})
        .get(resource)
    )
    if previous is not None and old and old < current:
        why = f"revision {previous.revision} requested {fmt(old)}"
        pr = _requests_pr(container, resource, current, old, fmt, "revision", why)
        return _RequestsFix(pr, container, (previous.item_id,), "revision")
    allocatable = [
        (n, q) for n in view.nodes if (q := try_parse_quantity(n.allocatable.get(resource))) is not None
    ]
    if allocatable:
        _, largest = max(allocatable, key=lambda pair: pair[1])
        target = largest * ctx.policy.request_fit_fraction
        if current > target:
            target = math.floor(target / MI) * MI if resource == "memory" else target
            why = f"the largest node allocates {fmt(largest)} {resource}"
            pr = _requests_pr(container, resource, current, target, fmt, "allocatable", why)
            return _RequestsFix(pr, container, cite([n for n, _ in allocatable]), "allocatable")
    return _RequestsFix(
        remedies.notify(
            f"the {resource} request {fmt(current)} fits a node on paper; the cluster is full",
            resource=resource,
        ),
        container,
    )


def _requests_pr(
    container: str,
    resource: str,
    current: float,
    new: float,
    fmt: Callable[[float], str],
    source: str,
    why: str,
) -> ProposedRemediation:
    patch = remedies.container_patch(container, {"resources": {"requests": {resource: fmt(new)}}})
    return remedies.gitops_pr(
        patch,
        f"lower the {resource} request of {container} from {fmt(current)} to {fmt(new)}: {why}",
        container=container,
        field=f"resources.requests.{resource}",
        old=fmt(current),
        new=fmt(new),
        source=source,
    )
