"""unschedulable: pods stuck Pending, e.g. "0/3 nodes are available: 3 Insufficient memory." or
"3 node(s) didn't match Pod's node affinity/selector".

Signature: the scheduler failing to place the pods (FailedScheduling, or a pod Pending with
PodScheduled=False) AND pods pending now. A DaemonSet never gets that far: its controller creates no
pod for a node its nodeSelector excludes, so one that wants no pod at all while its selector matches
no node's labels (read from the Node evidence) is this cause as well. FailedScheduling events while
every pod runs are past trouble (partial). Node pressure taints alone are `node_pressure`'s. A
scheduler waiting only on the pods' PersistentVolumeClaims (missing, unbound, out of reach) is
partial: no node constraint of the pod is at fault, the storage is, and no cause of the catalogue
fixes that.

The fix for requests lowers the largest request of the short resource: to what a schedulable
revision asked for (acted on), else to a share of the largest node's allocatable (a guess, so below
the act threshold). The fix for a nodeSelector no node satisfies is `node_selector`'s: the selector of
the revision that worked, else a near miss patched to the value nodes carry, else humans, told the
labels nodes have.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.node_selector import SELECTOR_MISMATCH, SelectorFix, affinity_listing, fix_selector
from agent.reasoners.rules.observations import EventObs, PodObs, find_container
from agent.reasoners.rules.quantity import MI, format_cpu, format_mebibytes, try_parse_quantity
from agent.reasoners.rules.scheduling import FAILED_SCHEDULING, INSUFFICIENT, PRESSURE_TAINT, STORAGE

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
        return _daemonset_placed_nowhere(ctx)
    messages = " ".join(e.message for e in events) + " ".join(
        c.message if (c := p.condition("PodScheduled")) else "" for p in pending
    )
    if PRESSURE_TAINT.search(messages) and not INSUFFICIENT.search(messages):
        return None  # node pressure, not the workload's own sizing
    missing = () if pending or any(p.phase == "Pending" for p in view.pods) else ("pods pending now",)
    resources = sorted(set(INSUFFICIENT.findall(messages)))
    if STORAGE.search(messages) and not resources and not SELECTOR_MISMATCH.search(messages):
        return _storage_finding(ctx, events, pending)
    if SELECTOR_MISMATCH.search(messages) and not resources:
        return _selector_finding(ctx, events, pending, missing)
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
        faulty_field=fields.resource(container, "requests", resources[0])
        if container and resources
        else None,
        remediation=fix.remediation,
        cited=cite(events, pending, fix.cited),
        missing=missing,
    )


def _fixed(
    ctx: RuleContext, fix: SelectorFix, what: str, cited: tuple[str, ...], missing: tuple[str, ...] = ()
) -> Finding:
    """The finding for a placement the node labels can repair: the fix's field, patch and confidence."""
    return Finding(
        rule="unschedulable",
        category=RootCause.UNSCHEDULABLE,
        confidence=fix.confidence,
        explanation=f"{what}: {fix.explanation}",
        faulty_resource=ctx.workload,
        faulty_field=fix.faulty_field,
        remediation=fix.remediation,
        cited=cited,
        missing=missing,
    )


def _selector_finding(
    ctx: RuleContext, events: list[EventObs], pending: list[PodObs], missing: tuple[str, ...]
) -> Finding:
    """No node matches the pods' nodeSelector or required node affinity."""
    fix = fix_selector(ctx)
    if fix is not None:
        return _fixed(ctx, fix, "Pods cannot be scheduled", cite(events, pending, fix.cited), missing)
    affinity = affinity_listing(ctx)
    where = "node affinity" if affinity else "node selector or affinity"
    listing = affinity or (
        "the node labels were not gathered" if not ctx.view.nodes else "the selector matches some node now"
    )
    return Finding(
        rule="unschedulable",
        category=RootCause.UNSCHEDULABLE,
        confidence=0.8,
        explanation=f"Pods cannot be scheduled: no node matches the pods' {where} ({listing}).",
        faulty_resource=ctx.workload,
        faulty_field=fields.pod_spec("affinity") if affinity else None,
        remediation=remedies.notify(f"no node matches the pods' {where}: {listing}", node_labels=listing),
        cited=cite(events, pending, ctx.view.nodes),
        missing=missing,
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
    good = history.known_good(
        view,
        lambda spec: (
            ((find_container(spec, container) or {}).get("resources") or {}).get("requests", {}).get(resource)
        ),
    )
    old = try_parse_quantity(good.value) if good is not None else None
    if good is not None and old and old < current:
        why = f"{good.source} requested {fmt(old)}"
        pr = _requests_pr(container, resource, current, old, fmt, "revision", why)
        return _RequestsFix(pr, container, good.cited, "revision")
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


def _storage_finding(ctx: RuleContext, events: list[EventObs], pending: list[PodObs]) -> Finding:
    """The scheduler waits on the pods' claims: a partial match, since the fix is in storage."""
    return Finding(
        rule="unschedulable",
        category=RootCause.UNSCHEDULABLE,
        confidence=0.4,
        explanation="Pods cannot be scheduled: they wait for PersistentVolumeClaims that are missing or "
        "unbound.",
        faulty_resource=ctx.workload,
        remediation=remedies.notify("create or bind the pods' PersistentVolumeClaims (a storage problem)"),
        cited=cite(events, pending),
        missing=("a node constraint or request of the pods (the scheduler waits on their volumes)",),
    )


def _daemonset_placed_nowhere(ctx: RuleContext) -> Finding | None:
    """A DaemonSet that wants no pod because no node carries the labels its nodeSelector asks for."""
    view = ctx.view
    desired, status_id = view.desired_replicas()
    if view.target.kind != "DaemonSet" or desired != 0 or not view.nodes:
        return None
    fix = fix_selector(ctx)
    if fix is not None:
        cited = cite([status_id] if status_id else [], fix.cited)
        return _fixed(ctx, fix, "The DaemonSet places no pod on any node", cited)
    # A required node affinity matching nothing, or taints no pod tolerates, also leave it at zero; the
    # evidence does not tell those apart here, so they stay unknown rather than guessed.
    return None
