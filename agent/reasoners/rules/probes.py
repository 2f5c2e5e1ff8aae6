"""What the readiness and liveness rules share: which container's probe fails, the doubt a down
dependency casts on it, and the fix (the earlier probe, the declared port, a revert or a rollback)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import ContainerObs, EventObs

_PROBE_EVENT_REASONS = ("Unhealthy", "Killing", "ProbeWarning")
_DEPENDENCY_HINT = re.compile(
    r"connection refused|no such host|ECONNREFUSED|ENOTFOUND|could not connect", re.IGNORECASE
)
_PROBE_CHANGE = re.compile(r"Probe\s*:|^\s*(?:path|port)\s*:")


def _probe_container(ctx: RuleContext, events: list[EventObs]) -> str | None:
    """The container the probe events name, else the only probed container, else the only one."""
    names = ctx.view.container_names()
    for event in events:
        for name in names:
            if re.search(rf"\bcontainer {re.escape(name)}\b", event.message) or event.involved_name.endswith(
                f"{{{name}}}"
            ):
                return name
    probed = [
        n
        for n in names
        if (ctx.view.container_spec(n) or {}).get("readinessProbe")
        or (ctx.view.container_spec(n) or {}).get("livenessProbe")
    ]
    return probed[0] if len(probed) == 1 else ctx.only_container()


# How a probe rule weighs its events: the failing containers it cites, and how sure it is.
Weigh = Callable[[RuleContext, list[EventObs], str | None], tuple[list[ContainerObs], float]]


def probe_rule(
    ctx: RuleContext, category: RootCause, probe_key: str, pattern: re.Pattern[str], weigh: Weigh
) -> Finding | None:
    """The finding about a failing probe: events matching `pattern`, weighed by the cause's rule."""
    events = ctx.view.events_matching(pattern, _PROBE_EVENT_REASONS)
    if not events:
        return None
    container = _probe_container(ctx, events)
    failing, confidence = weigh(ctx, events, container)
    # Only the failing pods' logs count: healthy pods of the old revision often logged a refused
    # connection while they started, which says nothing about why the new ones fail their probe.
    failing_pods = {c.pod for c in failing}
    dependency_logs = [
        log
        for log in ctx.view.logs
        if _DEPENDENCY_HINT.search(log.text) and (not failing_pods or log.pod in failing_pods)
    ]
    if dependency_logs:
        confidence -= 0.25  # the probe may be failing because a dependency is down
    remediation, fix_ids, fix_conf = _fix_probe(ctx, container, probe_key)
    confidence = min(confidence, fix_conf) if fix_conf < confidence else confidence + 0.05
    kind = "Readiness" if category is RootCause.READINESS_PROBE else "Liveness"
    return Finding(
        rule=category.value,
        category=category,
        confidence=round(min(confidence, 0.9), 2),
        explanation=f"{kind} probe of container {container or '?'} fails: {events[0].message[:200]}",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, probe_key) if container else None,
        remediation=remediation,
        cited=cite(events, failing, fix_ids),
    )


def _declared_ports(spec: dict[str, Any]) -> dict[str, int]:
    ports = {}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            ports[str(port.get("name") or port["containerPort"])] = port["containerPort"]
    return ports


def _fix_probe(
    ctx: RuleContext, container: str | None, probe_key: str
) -> tuple[ProposedRemediation, tuple[str, ...], float]:
    view = ctx.view
    spec = view.container_spec(container) if container else None
    probe = (spec or {}).get(probe_key) or {}
    previous = view.previous_revision
    old_probe = ((previous.container(container) if previous and container else None) or {}).get(probe_key)
    # A probe holding a secret (an exec command with a password, an Authorization header) shows only
    # markers: rolling back restores it, copying it would write the markers.
    restorable = bool(old_probe) and old_probe != probe and not remedies.holds_marker(old_probe)
    if previous is not None and container and restorable:
        return (
            remedies.gitops_pr(
                remedies.container_patch(container, {probe_key: old_probe}),
                f"restore the {probe_key} of revision {previous.revision}",
                container=container,
            ),
            (previous.item_id,),
            0.9,
        )
    http = probe.get("httpGet") if isinstance(probe.get("httpGet"), dict) else None
    ports = _declared_ports(spec or {})
    if container and http and ports:
        port = http.get("port")
        declared = set(ports.values()) | set(ports)
        if port not in declared and len(set(ports.values())) == 1:
            new_port = next(iter(ports.values()))
            fixed = {**http, "port": new_port}
            return (
                remedies.gitops_pr(
                    remedies.container_patch(container, {probe_key: {"httpGet": fixed}}),
                    f"the probe targets port {port}, but the container only declares port {new_port}",
                    container=container,
                ),
                (),
                0.85,
            )
    commit = view.suspect_commit(_PROBE_CHANGE)
    if commit is not None:
        return (
            remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} changed the probe"),
            (commit.item_id,),
            0.8,
        )
    if previous is not None:
        return (
            remedies.rollback(previous.revision, f"revision {previous.revision} preceded the failing one"),
            (previous.item_id,),
            0.65,
        )
    return remedies.notify("the correct probe path/port cannot be derived from the evidence"), (), 0.6
