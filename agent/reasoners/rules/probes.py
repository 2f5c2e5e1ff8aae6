"""What the readiness and liveness rules share: which container's probe fails, the doubt a down
dependency casts on it, the probe's faulty leaf (what differs from the revision that worked, else
what the kubelet's words point at: a 404 is the path, a refused connection the port), and the fix.

The fix restores the probe the workload last worked with (the revision whose pods are still ready,
else the last revision before the failing ones), only the leaves that differ; else points the probe
at the one port the container declares; else reverts the commit still in effect that changed it;
else rolls back to the revision the workload last worked on (never one known to fail).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.observations import ContainerObs, EventObs, find_container

_PROBE_EVENT_REASONS = ("Unhealthy", "Killing", "ProbeWarning")
_DEPENDENCY_HINT = re.compile(
    r"connection refused|no such host|ECONNREFUSED|ENOTFOUND|could not connect", re.IGNORECASE
)
_NOT_FOUND = re.compile(r"statuscode: 404\b")
_REFUSED = re.compile(r"connect: connection refused", re.IGNORECASE)
_PROBE_CHANGE = re.compile(r"Probe\s*:|^\s*(?:path|port)\s*:")
_LEAF_LINE = re.compile(r"^\s*(path|port|scheme|command|host)\s*:")
_LEAF_OF = {
    "path": "httpGet.path",
    "port": "httpGet.port",
    "scheme": "httpGet.scheme",
    "host": "httpGet.host",
}


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


@dataclass(frozen=True)
class Weighed:
    """How a probe rule reads its events: the failing containers, how sure, what is not shown."""

    failing: list[ContainerObs]
    confidence: float
    missing: tuple[str, ...] = ()


Weigh = Callable[[RuleContext, list[EventObs], str | None], Weighed]


@dataclass(frozen=True)
class _ProbeFix:
    remediation: ProposedRemediation
    cited: tuple[str, ...]
    confidence: float
    leaf: str | None = None  # the probe's faulty leaf, relative to the probe (`httpGet.path`)


def probe_rule(
    ctx: RuleContext, category: RootCause, probe_key: str, pattern: re.Pattern[str], weigh: Weigh
) -> Finding | None:
    """The finding about a failing probe: events matching `pattern`, weighed by the cause's rule."""
    events = ctx.view.events_matching(pattern, _PROBE_EVENT_REASONS)
    if not events:
        return None
    container = _probe_container(ctx, events)
    weighed = weigh(ctx, events, container)
    confidence = weighed.confidence
    # Only the failing pods' logs count: healthy pods of the old revision often logged a refused
    # connection while they started, which says nothing about why the new ones fail their probe.
    failing_pods = {c.pod for c in weighed.failing}
    dependency_logs = [
        log
        for log in ctx.view.logs
        if _DEPENDENCY_HINT.search(log.text) and (not failing_pods or log.pod in failing_pods)
    ]
    if dependency_logs:
        confidence -= 0.25  # the probe may be failing because a dependency is down
    missing = list(weighed.missing)
    same = history.same_in_good_revision(ctx.view, _probe_of(container, probe_key)) if container else None
    if same is not None:
        missing.append(f"a probe different from revision {same.revision}'s, whose pods pass it")
    fix = _fix_probe(ctx, container, probe_key)
    confidence = min(confidence, fix.confidence) if fix.confidence < confidence else confidence + 0.05
    kind = "Readiness" if category is RootCause.READINESS_PROBE else "Liveness"
    probe = ((ctx.view.container_spec(container) or {}) if container else {}).get(probe_key) or {}
    probe_leaf = fix.leaf if fix.leaf in _LEAF_OF.values() else _leaf_from_events(probe, events) or fix.leaf
    leaf = (probe_key, probe_leaf) if probe_leaf else (probe_key,)
    return Finding(
        rule=category.value,
        category=category,
        confidence=round(min(confidence, 0.9), 2),
        explanation=f"{kind} probe of container {container or '?'} fails: {events[0].message[:200]}",
        faulty_resource=ctx.workload,
        faulty_field=fields.container(container, *leaf) if container else None,
        remediation=fix.remediation,
        cited=cite(events, weighed.failing, fix.cited, [same.item_id] if same else []),
        missing=tuple(missing),
    )


def _leaf_from_events(probe: dict[str, Any], events: list[EventObs]) -> str | None:
    """The leaf of an HTTP probe the kubelet's words point at, when history does not tell: a 404 is
    a path the program does not serve; a refused connection, a port nothing listens on."""
    if not isinstance(probe.get("httpGet"), dict):
        return None
    text = " ".join(e.message for e in events)
    if _NOT_FOUND.search(text):
        return "httpGet.path"
    if _REFUSED.search(text):
        return "httpGet.port"
    return None


def _probe_of(container: str, probe_key: str) -> history.Getter:
    def read(pod_spec: dict[str, Any]) -> Any:
        return (find_container(pod_spec, container) or {}).get(probe_key)

    return read


def _declared_ports(spec: dict[str, Any]) -> dict[str, int]:
    ports = {}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            ports[str(port.get("name") or port["containerPort"])] = port["containerPort"]
    return ports


def _only_leaf(current: Any, good: Any) -> str | None:
    leaves = fields.leaf_differences(current if isinstance(current, dict) else {}, good or {})
    return leaves[0] if len(leaves) == 1 else None


def _fix_probe(ctx: RuleContext, container: str | None, probe_key: str) -> _ProbeFix:
    view = ctx.view
    if container is None:
        return _ProbeFix(remedies.notify("the container whose probe fails is not known"), (), 0.6)
    spec = view.container_spec(container) or {}
    probe = spec.get(probe_key) or {}
    good = history.known_good(view, _probe_of(container, probe_key))
    # A probe holding a secret (an exec command with a password, an Authorization header) shows only
    # markers: rolling back restores it (below, through the commit or the revision), copying would
    # write the markers.
    if good is not None and not remedies.holds_marker(good.value):
        patch = remedies.container_patch(container, {probe_key: remedies.restore(probe, good.value)})
        return _ProbeFix(
            remedies.gitops_pr(
                patch,
                f"restore the {probe_key} of {good.source}",
                container=container,
                field=probe_key,
                source=good.source,
            ),
            good.cited,
            0.9 if good.proven else 0.85,
            _only_leaf(probe, good.value),
        )
    http = probe.get("httpGet") if isinstance(probe.get("httpGet"), dict) else None
    ports = _declared_ports(spec)
    if http and ports:
        port = http.get("port")
        declared = set(ports.values()) | set(ports)
        if port not in declared and len(set(ports.values())) == 1:
            new_port = next(iter(ports.values()))
            return _ProbeFix(
                remedies.gitops_pr(
                    remedies.container_patch(container, {probe_key: {"httpGet": {"port": new_port}}}),
                    f"the probe targets port {port}, but the container only declares port {new_port}",
                    container=container,
                ),
                (),
                0.85,
                "httpGet.port",
            )
    commit = view.suspect_commit(_PROBE_CHANGE)
    if commit is not None:
        changed = {m.group(1) for line in commit.changed_lines() if (m := _LEAF_LINE.match(line[1:]))}
        leaf = _LEAF_OF.get(next(iter(changed))) if len(changed) == 1 else None
        return _ProbeFix(
            remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} changed the probe"),
            (commit.item_id,),
            0.8,
            leaf,
        )
    found = history.good_revision(view)
    if found is not None:
        revision, _ = found
        return _ProbeFix(
            remedies.rollback(revision.revision, f"revision {revision.revision} preceded the failing ones"),
            (revision.item_id,),
            0.65,
        )
    return _ProbeFix(remedies.notify("the correct probe cannot be derived from the evidence"), (), 0.6)
