"""The failure signatures the rules reasoner knows: one function per root cause.

Each rule reads only what a real cluster shows (statuses, events, logs, metrics, manifests, commits,
rollout history) through `EvidenceView`, and returns a `Finding` or None. Confidence reflects how
specific the signal is: a structured, unambiguous reason (OOMKilled, ImagePullBackOff) scores high,
a pattern in free text lower, a generic symptom (CrashLoopBackOff alone) low. Log text is matched
against fixed patterns only, so nothing written in a log can steer the outcome.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.domain import Incident, ProposedRemediation, RootCause
from agent.reasoners import remedies
from agent.reasoners.evidence_view import CommitObs, ContainerObs, EvidenceView, RolloutObs
from agent.reasoners.quantity import MI, format_cpu, format_mebibytes, try_parse_quantity


@dataclass(frozen=True)
class RulesPolicy:
    """Knobs of the rules' remediations."""

    memory_factor: float = 2.0
    memory_cap_bytes: int = 8 * 1024 * MI  # never propose a memory limit above 8Gi
    request_fit_fraction: float = 0.8  # lowered requests take at most this share of a node


@dataclass(frozen=True)
class Finding:
    """What one rule concluded."""

    rule: str
    category: RootCause
    confidence: float
    explanation: str
    faulty_resource: str
    remediation: ProposedRemediation
    faulty_field: str | None = None
    cited: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleContext:
    """What a rule sees."""

    view: EvidenceView
    incident: Incident
    policy: RulesPolicy = field(default_factory=RulesPolicy)

    @property
    def workload(self) -> str:
        t = self.view.target
        return f"{t.kind} {t.namespace}/{t.name}"


Rule = Callable[[RuleContext], Finding | None]


def _ids(*groups: Any) -> tuple[str, ...]:
    out: list[str] = []
    for group in groups:
        if group is None:
            continue
        if isinstance(group, str):
            out.append(group)
            continue
        for obj in group:
            out.append(obj if isinstance(obj, str) else obj.item_id)
    return tuple(dict.fromkeys(out))


def _only_container(ctx: RuleContext) -> str | None:
    names = ctx.view.container_names()
    return names[0] if len(names) == 1 else None


def _crashing(ctx: RuleContext) -> list[ContainerObs]:
    return [
        c
        for c in ctx.view.containers
        if c.waiting_reason == "CrashLoopBackOff" or c.restart_count > 0 or c.last_terminated_reason
    ]


def _log_search(ctx: RuleContext, pattern: re.Pattern[str]) -> tuple[re.Match[str], str, str] | None:
    """First match in the logs (previous instances first): (match, log item id, container)."""
    for log in ctx.view.logs:
        match = pattern.search(log.text)
        if match:
            return match, log.item_id, log.container
    return None


def _revert_or_rollback(
    ctx: RuleContext,
    commit_pattern: re.Pattern[str],
    what: str,
    container: str | None,
    fields: tuple[str, ...],
) -> tuple[ProposedRemediation, tuple[str, ...]] | None:
    """Revert the newest commit that changed `what`, else roll back to the previous revision."""
    commit = ctx.view.suspect_commit(commit_pattern)
    if commit is not None:
        return (
            remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} changed the {what}"),
            (commit.item_id,),
        )
    previous = ctx.view.previous_revision
    if previous is not None:
        patch = _previous_fields_patch(previous, container, fields)
        return (
            remedies.rollback(
                previous.revision, f"revision {previous.revision} ran a different {what}", patch
            ),
            (previous.item_id,),
        )
    return None


def _previous_fields_patch(
    previous: RolloutObs, container: str | None, fields: tuple[str, ...]
) -> dict[str, Any] | None:
    if container is None:
        return None
    spec = previous.container(container)
    if spec is None:
        return None
    values = {f: spec[f] for f in fields if f in spec}
    return remedies.container_patch(container, values) if values else None


_NOTHING_TO_GO_BACK_TO = "no earlier revision or suspect commit to go back to"


# --- oom ---------------------------------------------------------------------------------------

_OOM_EVENT = re.compile(r"OOMKill|out of memory|Memory cgroup out of memory", re.IGNORECASE)
_WORKING_SET = re.compile(r"memory_working_set|memory_usage|memory_rss", re.IGNORECASE)


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
        or _only_container(ctx)
    )
    cited = _ids(killed, events, metrics, exit137)
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
        remediation = remedies.revert_commit(
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


_MEMORY_LINE = re.compile(r"^\s*memory\s*:\s*['\"]?([0-9.]+[A-Za-z]*)")


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


def _current_memory_limit(ctx: RuleContext, container: str | None, metrics: list[Any]) -> float | None:
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


# --- bad_image ---------------------------------------------------------------------------------

_IMAGE_REASONS = {"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"}
_PULL_EVENT = re.compile(
    r"Failed to pull image|Back-off pulling image|ErrImagePull|ImagePullBackOff|InvalidImageName"
    r"|manifest unknown|pull access denied",
    re.IGNORECASE,
)
_PULL_NOT_FOUND = re.compile(r"not found|manifest unknown|does not exist|invalid reference format", re.I)
_IMAGE_LINE = re.compile(r"^\s*(?:-\s*)?image:\s*\S")


def bad_image(ctx: RuleContext) -> Finding | None:
    """Image pulls failing: ImagePullBackOff/ErrImagePull, 'Failed to pull image …: not found'."""
    view = ctx.view
    waiting = [c for c in view.containers if c.reasons & _IMAGE_REASONS]
    events = view.events_matching(_PULL_EVENT, ("Failed", "BackOff", "InspectFailed", "ErrImagePull"))
    if not waiting and not events:
        return None
    specific = any(_PULL_NOT_FOUND.search(e.message) for e in events) or any(
        _PULL_NOT_FOUND.search(c.messages) for c in waiting
    )
    confidence = (0.8 if waiting else 0.7) + (0.1 if specific else 0.0)
    container = next((c.name for c in waiting if c.name), None) or _only_container(ctx)
    fixed = _revert_or_rollback(ctx, _IMAGE_LINE, "image", container, ("image",))
    remediation, fix_ids = fixed or (remedies.notify(_NOTHING_TO_GO_BACK_TO), ())
    image = (view.container_spec(container) or {}).get("image") if container else None
    return Finding(
        rule="bad_image",
        category=RootCause.BAD_IMAGE,
        confidence=confidence,
        explanation=f"The image {image or 'of the workload'} cannot be pulled"
        + (" (the tag or repository does not exist)." if specific else "."),
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, "image") if container else None,
        remediation=remediation,
        cited=_ids(waiting, events, fix_ids),
    )


# --- missing_config_key -------------------------------------------------------------------------

_MISSING_KEY = re.compile(
    r"couldn't find key (?P<key>[\w.-]+) in (?P<kind>ConfigMap|Secret) (?:(?P<ns>[\w.-]+)/)?(?P<name>[\w.-]+)"
)
_MISSING_OBJECT = re.compile(r"(?P<kind>configmap|secret) \"(?P<name>[\w.-]+)\" not found", re.IGNORECASE)


def missing_config_key(ctx: RuleContext) -> Finding | None:
    """CreateContainerConfigError: a referenced ConfigMap/Secret key (or object) does not exist."""
    view = ctx.view
    sources = [(c.item_id, c.messages) for c in view.containers if c.messages] + [
        (e.item_id, e.message) for e in view.events
    ]
    config_error = [c for c in view.containers if "CreateContainerConfigError" in c.reasons]
    hit = next(((i, m) for i, text in sources if (m := _MISSING_KEY.search(text))), None)
    obj = None if hit else next(((i, m) for i, text in sources if (m := _MISSING_OBJECT.search(text))), None)
    if hit is None and obj is None:
        if not config_error:
            return None
        return Finding(
            rule="missing_config_key",
            category=RootCause.MISSING_CONFIG_KEY,
            confidence=0.5,
            explanation="Containers cannot be created (CreateContainerConfigError); the missing reference "
            "is not named in the evidence.",
            faulty_resource=ctx.workload,
            remediation=remedies.notify("the missing ConfigMap/Secret reference is not named"),
            cited=_ids(config_error),
        )
    item_id, match = hit or obj  # type: ignore[misc]
    kind = match.group("kind")
    kind = {"configmap": "ConfigMap", "secret": "Secret"}.get(kind.lower(), kind)
    name = match.group("name")
    key = match.groupdict().get("key")
    resource = f"{kind} {view.target.namespace}/{name}"
    what = f"key {key} in {kind} {name}" if key else f"{kind} {name}"
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*:") if key else re.compile(rf"\b{re.escape(name)}\b")
    commit = view.suspect_commit(key_line)
    cited = [item_id, *(c.item_id for c in config_error)]
    if commit is not None:
        remediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} removed or renamed {what}"
        )
        cited.append(commit.item_id)
        confidence = 0.9
    else:
        remediation = remedies.notify(f"restore {what}, or fix the reference to it", missing=what)
        confidence = 0.85
    return Finding(
        rule="missing_config_key",
        category=RootCause.MISSING_CONFIG_KEY,
        confidence=confidence,
        explanation=f"The pod references {what}, which does not exist, so its containers cannot start.",
        faulty_resource=resource,
        faulty_field=f"data.{key}" if key else None,
        remediation=remediation,
        cited=_ids(cited),
    )


# --- missing_env --------------------------------------------------------------------------------


def _env(n: int) -> str:
    return rf"['\"]?(?P<var{n}>[A-Z][A-Z0-9_]{{1,63}})['\"]?"


_MISSING_ENV = re.compile(
    rf"KeyError: {_env(1)}"
    rf"|(?:environment variable|env var(?:iable)?|env)\s+{_env(2)}\s+(?:is\s+)?"
    rf"(?:not set|missing|required|undefined|must be set|is required)"
    rf"|missing (?:required )?(?:environment variable|env var(?:iable)?)s?:?\s+{_env(3)}"
    rf"|\b{_env(4)} (?:environment variable )?(?:is not set|must be set|is required|not set)",
)


def _var(match: re.Match[str]) -> str:
    return next(v for k, v in match.groupdict().items() if k.startswith("var") and v)


def missing_env(ctx: RuleContext) -> Finding | None:
    """A crash whose log names an unset environment variable."""
    view = ctx.view
    found = _log_search(ctx, _MISSING_ENV) if view.unhealthy() else None
    if found is None:
        return None
    match, log_id, log_container = found
    var = _var(match)
    container = log_container or _only_container(ctx)
    crashing = _crashing(ctx)
    spec = (view.container_spec(container) if container else None) or {}
    current_env = {e.get("name") for e in spec.get("env") or [] if isinstance(e, dict)}
    if var in current_env:
        return None  # it is set; whatever the log says, this is not a missing variable
    cited = [log_id, *(c.item_id for c in crashing)]
    remediation, confidence = _restore_env(ctx, container, var, cited)
    if not crashing:
        confidence -= 0.15
    return Finding(
        rule="missing_env",
        category=RootCause.MISSING_ENV,
        confidence=confidence,
        explanation=f"The application exits because the environment variable {var} is not set"
        + (f" in container {container}." if container else "."),
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, "env") if container else None,
        remediation=remediation,
        cited=_ids(cited),
    )


def _restore_env(
    ctx: RuleContext, container: str | None, var: str, cited: list[str]
) -> tuple[ProposedRemediation, float]:
    view = ctx.view
    if container:
        for revision in reversed(view.rollouts):
            if revision is view.current_revision:
                continue
            entry = next(
                (e for e in (revision.container(container) or {}).get("env") or [] if e.get("name") == var),
                None,
            )
            if entry is not None:
                cited.append(revision.item_id)
                return remedies.gitops_pr(
                    remedies.container_patch(container, {"env": [entry]}),
                    f"restore {var} as revision {revision.revision} defined it",
                    container=container,
                    env=var,
                ), 0.85
        configmap = next((m for m in view.manifests if m.kind == "ConfigMap" and var in m.keys), None)
        if configmap is not None:
            cited.append(configmap.item_id)
            entry = {"name": var, "valueFrom": {"configMapKeyRef": {"name": configmap.name, "key": var}}}
            return remedies.gitops_pr(
                remedies.container_patch(container, {"env": [entry]}),
                f"set {var} from ConfigMap {configmap.name}, which holds that key",
                container=container,
                env=var,
            ), 0.8
    commit = view.suspect_commit(re.compile(rf"\b{re.escape(var)}\b"))
    if commit is not None:
        cited.append(commit.item_id)
        return remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} removed {var}"), 0.85
    return remedies.notify(f"set {var}: its value cannot be derived from the evidence", env=var), 0.7


# --- bad_command --------------------------------------------------------------------------------

_START_REASONS = {"RunContainerError", "StartError", "ContainerCannotRun", "CreateContainerError"}
# Command-line parsers rejecting their arguments (click, argparse, Go's flag/cobra, getopt).
_USAGE_ERROR = re.compile(
    r"No such option: \S+|unrecognized arguments?:|unknown (?:flag|shorthand flag|option):?\s"
    r"|flag provided but not defined|invalid option -- |error: unexpected argument",
    re.IGNORECASE,
)
_EXEC_ERROR = re.compile(
    r"executable file not found|exec: \"[^\"]*\": (?:stat|no such file)|exec format error"
    r"|(?:^|\s|:)command not found|OCI runtime (?:create|exec) failed|starting container process caused"
    r"|exec /\S+: no such file or directory",
    re.IGNORECASE | re.MULTILINE,
)
_COMMAND_LINE = re.compile(r"^\s*(?:command|args)\s*:|^\s*-\s*['\"]?[\w./-]+['\"]?\s*$")


def bad_command(ctx: RuleContext) -> Finding | None:
    """The container's command cannot start: StartError/RunContainerError, exit 126/127, exec errors,
    or a crash loop whose log is the program rejecting its arguments."""
    view = ctx.view
    start = [c for c in view.containers if c.reasons & _START_REASONS]
    exec_status = [c for c in view.containers if _EXEC_ERROR.search(c.messages)]
    exec_events = view.events_matching(_EXEC_ERROR)
    exec_logs = [log for log in view.logs if _EXEC_ERROR.search(log.text)]
    exit_codes = [c for c in view.containers if c.exit_code in (126, 127, 128)]
    crashing = _crashing(ctx)
    usage_logs = [log for log in view.logs if _USAGE_ERROR.search(log.text)] if crashing else []
    if not (start or exec_status or exec_events or exec_logs or exit_codes or usage_logs):
        return None
    if usage_logs and not (start or exec_status or exec_events or exec_logs or exit_codes):
        confidence = 0.85  # the program starts, rejects its arguments and exits: a crash loop
        exec_logs = usage_logs
        exit_codes = crashing
    elif (start or exit_codes) and (exec_status or exec_events or exec_logs):
        confidence = 0.9
    elif exec_status or exec_events or start:
        confidence = 0.8
    elif exec_logs:
        confidence = 0.7
    else:
        confidence = 0.55  # exit 126/127 alone
    named = (c.name for c in (*start, *exec_status, *exit_codes) if c.name)
    container = next(named, None) or _only_container(ctx)
    fixed = _revert_or_rollback(
        ctx, re.compile(r"^\s*(?:command|args)\s*:"), "command", container, ("command", "args")
    )
    remediation, fix_ids = fixed or (remedies.notify(_NOTHING_TO_GO_BACK_TO), ())
    return Finding(
        rule="bad_command",
        category=RootCause.BAD_COMMAND,
        confidence=confidence,
        explanation="The container's command cannot be executed"
        + (f" in container {container}" if container else "")
        + " (executable not found or not runnable).",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, "command") if container else None,
        remediation=remediation,
        cited=_ids(start, exec_status, exec_events, exec_logs, exit_codes, fix_ids),
    )


# --- readiness / liveness probes ----------------------------------------------------------------

_READINESS = re.compile(r"Readiness probe (?:failed|errored)", re.IGNORECASE)
_LIVENESS = re.compile(r"Liveness probe (?:failed|errored)|failed liveness probe", re.IGNORECASE)
_PROBE_PORT = re.compile(r"(?:https?://[^/\s:\"]+|dial tcp [\d.]+):(\d+)")
_PROBE_STATUS = re.compile(r"statuscode: (\d{3})")
_DEPENDENCY_HINT = re.compile(
    r"connection refused|no such host|ECONNREFUSED|ENOTFOUND|could not connect", re.IGNORECASE
)


def readiness_probe(ctx: RuleContext) -> Finding | None:
    """Readiness probes failing on running containers that do not restart."""
    return _probe(ctx, "readinessProbe", RootCause.READINESS_PROBE, _READINESS)


def liveness_probe(ctx: RuleContext) -> Finding | None:
    """Liveness probes failing and the kubelet restarting the container for it."""
    return _probe(ctx, "livenessProbe", RootCause.LIVENESS_PROBE, _LIVENESS)


def _probe(ctx: RuleContext, probe_key: str, category: RootCause, pattern: re.Pattern[str]) -> Finding | None:
    view = ctx.view
    events = view.events_matching(pattern, ("Unhealthy", "Killing", "ProbeWarning"))
    if not events:
        return None
    container = _probe_container(ctx, events)
    not_ready = [c for c in view.containers if c.ready is False and (not container or c.name == container)]
    if category is RootCause.READINESS_PROBE:
        confidence = 0.8 if not_ready else 0.65
        if any(c.restart_count > 2 or "OOMKilled" in c.reasons for c in view.containers):
            confidence -= 0.2  # crashes explain unreadiness better than the probe does
    else:
        killing = [e for e in events if e.reason == "Killing" or "will be restarted" in e.message]
        restarted = [c for c in view.containers if c.restart_count > 0 and "OOMKilled" not in c.reasons]
        confidence = 0.7 + (0.1 if killing else 0.0) + (0.05 if restarted else 0.0)
        not_ready = restarted
    # Only the failing pods' logs count: healthy pods of the old revision often logged a refused
    # connection while they started, which says nothing about why the new ones fail their probe.
    failing_pods = {c.pod for c in not_ready}
    dependency_logs = [
        log
        for log in view.logs
        if _DEPENDENCY_HINT.search(log.text) and (not failing_pods or log.pod in failing_pods)
    ]
    if dependency_logs:
        confidence -= 0.25  # the probe may be failing because a dependency is down
    remediation, fix_ids, fix_conf = _fix_probe(ctx, container, probe_key, events)
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
        cited=_ids(events, not_ready, fix_ids),
    )


def _probe_container(ctx: RuleContext, events: list[Any]) -> str | None:
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
    return probed[0] if len(probed) == 1 else _only_container(ctx)


def _declared_ports(spec: dict[str, Any]) -> dict[str, int]:
    ports = {}
    for port in spec.get("ports") or []:
        if isinstance(port, dict) and isinstance(port.get("containerPort"), int):
            ports[str(port.get("name") or port["containerPort"])] = port["containerPort"]
    return ports


def _fix_probe(
    ctx: RuleContext, container: str | None, probe_key: str, events: list[Any]
) -> tuple[ProposedRemediation, tuple[str, ...], float]:
    view = ctx.view
    spec = view.container_spec(container) if container else None
    probe = (spec or {}).get(probe_key) or {}
    previous = view.previous_revision
    old_probe = ((previous.container(container) if previous and container else None) or {}).get(probe_key)
    if container and old_probe and old_probe != probe:
        return (
            remedies.gitops_pr(
                remedies.container_patch(container, {probe_key: old_probe}),
                f"restore the {probe_key} of revision {previous.revision}",  # type: ignore[union-attr]
                container=container,
            ),
            (previous.item_id,),  # type: ignore[union-attr]
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
    commit = view.suspect_commit(re.compile(r"Probe\s*:|^\s*(?:path|port)\s*:"))
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


# --- unschedulable ------------------------------------------------------------------------------

_FAILED_SCHEDULING = re.compile(
    r"\d+/\d+ nodes are available|didn't match|had untolerated taint|Insufficient"
)
_INSUFFICIENT = re.compile(r"Insufficient (memory|cpu|ephemeral-storage|nvidia\.com/gpu)")
_PRESSURE_TAINT = re.compile(r"node\.kubernetes\.io/(memory|disk|pid)-pressure")


def unschedulable(ctx: RuleContext) -> Finding | None:
    """Pods stuck Pending: FailedScheduling, e.g. '0/3 nodes are available: 3 Insufficient memory.'"""
    view = ctx.view
    events = view.events_matching(_FAILED_SCHEDULING, ("FailedScheduling",))
    pending = [
        p
        for p in view.pods
        if p.phase == "Pending" and (c := p.condition("PodScheduled")) and c.get("status") == "False"
    ]
    if not events and not pending:
        return None
    messages = " ".join(e.message for e in events) + " ".join(
        str((p.condition("PodScheduled") or {}).get("message", "")) for p in pending
    )
    if _PRESSURE_TAINT.search(messages) and not _INSUFFICIENT.search(messages):
        return None  # node pressure, not the workload's own sizing
    resources = sorted(set(_INSUFFICIENT.findall(messages)))
    confidence = 0.9 if events else 0.75
    container, remediation, fix_ids = _lower_requests(ctx, resources)
    fix_conf = (
        0.9
        if remediation.action != "notify" and remediation.notes.get("source") == "revision"
        else 0.7
        if remediation.action != "notify"
        else confidence
    )
    why = f"insufficient {', '.join(resources)}" if resources else "no node matches the pod's constraints"
    return Finding(
        rule="unschedulable",
        category=RootCause.UNSCHEDULABLE,
        confidence=min(confidence, fix_conf),
        explanation=f"Pods cannot be scheduled: {why}.",
        faulty_resource=ctx.workload,
        faulty_field=remedies.container_field(container, f"resources.requests.{resources[0]}")
        if container and resources
        else None,
        remediation=remediation,
        cited=_ids(events, pending, fix_ids),
    )


def _lower_requests(
    ctx: RuleContext, resources: list[str]
) -> tuple[str | None, ProposedRemediation, tuple[str, ...]]:
    view = ctx.view
    resource = next((r for r in resources if r in ("memory", "cpu")), None)
    if resource is None:
        return None, remedies.notify("scheduling constraints (affinity, taints, volumes) need a human"), ()
    requests = {
        name: try_parse_quantity(
            ((view.container_spec(name) or {}).get("resources") or {}).get("requests", {}).get(resource)
        )
        for name in view.container_names()
    }
    requests = {n: q for n, q in requests.items() if q}
    if not requests:
        return None, remedies.notify(f"insufficient {resource}, but the requests are not visible"), ()
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
        return container, pr, (previous.item_id,)
    allocatable = [
        (n, q) for n in view.nodes if (q := try_parse_quantity(n.allocatable.get(resource))) is not None
    ]
    if allocatable:
        _, largest = max(allocatable, key=lambda pair: pair[1])
        target = largest * ctx.policy.request_fit_fraction
        if current > target:
            target = math.floor(target / MI) * MI if resource == "memory" else target
            return (
                container,
                _requests_pr(
                    container,
                    resource,
                    current,
                    target,
                    fmt,
                    "allocatable",
                    f"the largest node allocates {fmt(largest)} {resource}",
                ),
                _ids([n for n, _ in allocatable]),
            )
    return (
        container,
        remedies.notify(
            f"the {resource} request {fmt(current)} fits a node on paper; the cluster is full",
            resource=resource,
        ),
        (),
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


# --- dependency_down ----------------------------------------------------------------------------

_HOST = r"(?P<host>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*)"
_CONNECT_ERRORS = (
    re.compile(rf"lookup {_HOST} on [\d.:]+: no such host"),
    re.compile(rf"getaddrinfo (?:ENOTFOUND|EAI_AGAIN) {_HOST}"),
    re.compile(rf"connection to server at \"{_HOST}\".*?(?:refused|failed|timed out)", re.I),
    re.compile(rf"could not translate host name \"{_HOST}\"", re.I),
    re.compile(
        rf"(?:connect(?:ing)? to|connection to|reach) {_HOST}:(?P<port>\d+)\S*[^\n]*?"
        rf"(?:refused|timed out|unavailable|failed|reset)",
        re.I,
    ),
    re.compile(rf"https?://{_HOST}(?::\d+)?[^\s]*[^\n]*?(?:refused|timed out|503|502|unavailable)", re.I),
    re.compile(rf"Error \d+ connecting to {_HOST}:\d+", re.I),
)
_GENERIC_CONNECT = re.compile(r"connection refused|ECONNREFUSED|no such host|Name or service not known", re.I)
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")


# Requests failing right now: 5xx access-log lines or the application's own "request failed".
_SERVING_ERRORS = re.compile(r'HTTP/\d(?:\.\d)?"\s+5\d\d\b|\brequest failed\b', re.IGNORECASE)


def _serving_errors(view: Any) -> bool:
    # A pod can stay Ready (its probe does not check the database) while every request fails.
    return any(_SERVING_ERRORS.search(log.text) for log in view.logs if not log.previous)


def dependency_down(ctx: RuleContext) -> Finding | None:
    """The workload's logs show it cannot reach a named dependency; its status, when shown, confirms."""
    view = ctx.view
    if not view.unhealthy() and not _serving_errors(view):
        return None
    host, log_id = None, None
    for log in view.logs:
        for pattern in _CONNECT_ERRORS:
            match = pattern.search(log.text)
            if match and not _IP.match(match.group("host")):
                host, log_id = match.group("host"), log.item_id
                break
        if host:
            break
    if host is None:
        generic = [log for log in view.logs if _GENERIC_CONNECT.search(log.text)]
        if not generic:
            return None
        return Finding(
            rule="dependency_down",
            category=RootCause.DEPENDENCY_DOWN,
            confidence=0.45,
            explanation="The application cannot connect to something it needs; the logs do not name it.",
            faulty_resource=ctx.workload,
            remediation=remedies.notify("a dependency is unreachable; find which one"),
            cited=_ids(generic),
        )
    name = host.split(".")[0]
    if name == view.target.name:
        return None
    dep = view.workload(name)
    down = dep is not None and (dep.replicas == 0 or (dep.ready_replicas or 0) == 0)
    confidence = 0.9 if down else 0.75 if dep is None else 0.55
    resource = f"{'Deployment' if dep else 'Service'} {view.target.namespace}/{name}"
    state = " and has no ready replicas" if down else ""
    return Finding(
        rule="dependency_down",
        category=RootCause.DEPENDENCY_DOWN,
        confidence=confidence,
        explanation=f"The application cannot reach its dependency {name}{state}; the fault is there.",
        faulty_resource=resource,
        remediation=remedies.notify(
            f"dependency {name} is down; fixing it is a separate target", dependency=name
        ),
        cited=_ids([log_id], [dep] if dep else []),
    )


# --- bad_config_value ---------------------------------------------------------------------------

_BAD_VALUE = re.compile(
    r"invalid literal for int\(\) with base \d+|could not convert string to float"
    r"|strconv\.\w+: parsing \"[^\"]*\": invalid syntax"
    r"|invalid (?:value|setting|configuration|config)\b|(?:config|configuration) (?:error|is invalid)"
    r"|failed to (?:parse|load) (?:config|configuration|settings)|unknown (?:log )?level"
    r"|must be (?:an integer|a number|a boolean|one of|between)|out of (?:the allowed )?range"
    r"|NumberFormatException|is not a valid",
    re.IGNORECASE,
)
_VALUE_LINE = re.compile(r"^\s*(?:value:\s*\S|[A-Za-z_][\w.-]*:\s*[\"']?[^\s{\[]+)")


def bad_config_value(ctx: RuleContext) -> Finding | None:
    """A crash on parsing configuration, traced to the commit that changed a value."""
    found = _log_search(ctx, _BAD_VALUE) if ctx.view.unhealthy() or _serving_errors(ctx.view) else None
    if found is None:
        return None
    match, log_id, _ = found
    crashing = _crashing(ctx)
    commit = _config_commit(ctx)
    cited = [log_id, *(c.item_id for c in crashing)]
    if commit is not None:
        cited.append(commit.item_id)
        remediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} changed a configuration value"
        )
        confidence = 0.85
        resource = _config_resource(ctx, commit)
    else:
        remediation = remedies.notify("the bad value is not traceable to a commit")
        confidence = 0.6
        resource = ctx.workload
    if not crashing:
        confidence -= 0.15
    if commit is not None and _names_changed_key(match, commit):
        confidence += 0.1  # the log names the very key the commit changed
    return Finding(
        rule="bad_config_value",
        category=RootCause.BAD_CONFIG_VALUE,
        confidence=confidence,
        explanation=f"The application rejects its configuration: {match.group(0)!r}.",
        faulty_resource=resource,
        remediation=remediation,
        cited=_ids(cited),
    )


_CONFIG_KEY = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")


def _names_changed_key(match: re.Match[str], commit: CommitObs) -> bool:
    text = match.string
    end = text.find("\n", match.end())
    line = text[text.rfind("\n", 0, match.start()) + 1 : len(text) if end < 0 else end]
    keys = set(_CONFIG_KEY.findall(line))
    return any(key in changed for changed in commit.changed_lines() for key in keys)


def _config_commit(ctx: RuleContext) -> CommitObs | None:
    skip = re.compile(r"^\s*(?:-\s*)?(?:image|replicas|command|args)\s*:")
    for commit in ctx.view.commits:
        lines = [line[1:] for line in commit.changed_lines()]
        if any(_VALUE_LINE.search(line) and not skip.search(line) for line in lines):
            return commit
    return None


_CHANGED_KEY = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*:")


def _config_resource(ctx: RuleContext, commit: CommitObs) -> str:
    """The ConfigMap the commit changed: one holding a changed key, named in a path, or the only one."""
    configmaps = [m for m in ctx.view.manifests if m.kind == "ConfigMap"]
    changed = {m.group(1) for line in commit.changed_lines() if (m := _CHANGED_KEY.match(line[1:]))}
    chosen = next((m for m in configmaps if changed & set(m.keys)), None)
    chosen = chosen or next((m for m in configmaps if any(m.name in path for path in commit.files)), None)
    if chosen is None and len(configmaps) == 1 and any("configmap" in p.lower() for p in commit.files):
        chosen = configmaps[0]
    if chosen is not None:
        return f"ConfigMap {ctx.view.target.namespace}/{chosen.name}"
    # No ConfigMap in the evidence: one the workload references, named by the commit (or the only
    # one, when the commit touched a ConfigMap file).
    referenced = _referenced_configmaps(ctx.view.pod_spec)
    text = f"{commit.message} {' '.join(commit.files)}"
    named = [n for n in referenced if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text)]
    if len(named) == 1 or (
        not named and len(referenced) == 1 and any("configmap" in p.lower() for p in commit.files)
    ):
        return f"ConfigMap {ctx.view.target.namespace}/{(named or referenced)[0]}"
    return ctx.workload


def _referenced_configmaps(pod_spec: dict[str, Any]) -> list[str]:
    """ConfigMap names a pod spec uses (envFrom, env valueFrom, volumes), in first-use order."""
    names: list[str] = []
    for container in pod_spec.get("containers") or []:
        if not isinstance(container, dict):
            continue
        for source in container.get("envFrom") or []:
            names.append(str(((source or {}).get("configMapRef") or {}).get("name") or ""))
        for env in container.get("env") or []:
            ref = ((env or {}).get("valueFrom") or {}).get("configMapKeyRef") or {}
            names.append(str(ref.get("name") or ""))
    for volume in pod_spec.get("volumes") or []:
        names.append(str(((volume or {}).get("configMap") or {}).get("name") or ""))
    return list(dict.fromkeys(n for n in names if n))


# --- scaled_to_zero -----------------------------------------------------------------------------

_SCALED_DOWN = re.compile(r"Scaled down replica set \S+ (?:from (?P<a>\d+) )?to 0(?: from (?P<b>\d+))?")
_REPLICAS_LINE = re.compile(r"^\s*replicas:\s*(\d+)")


def _sets_zero_replicas(commit: CommitObs) -> bool:
    return any(
        line.startswith("+") and (m := _REPLICAS_LINE.match(line[1:])) and m.group(1) == "0"
        for line in commit.changed_lines()
    )


def scaled_to_zero(ctx: RuleContext) -> Finding | None:
    """The workload wants zero replicas; the previous count comes from events, metrics or a commit."""
    view = ctx.view
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
    commit = next((c for c in view.commits if _sets_zero_replicas(c)), None)
    if commit is not None:
        removed = [
            int(m.group(1))
            for line in commit.changed_lines()
            if line.startswith("-") and (m := _REPLICAS_LINE.match(line[1:]))
        ]
        previous = previous or (removed[0] if removed and removed[0] > 0 else None)
        cited.append(commit.item_id)
        remediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} set replicas to 0", replicas=previous
        )
        confidence = 0.9
    elif previous:
        remediation = remedies.scale(previous, f"scale back to the previous {previous} replicas")
        confidence = 0.9
    else:
        remediation = remedies.notify("scaled to zero; the previous replica count is not in the evidence")
        confidence = 0.6
    return Finding(
        rule="scaled_to_zero",
        category=RootCause.SCALED_TO_ZERO,
        confidence=confidence,
        explanation="The workload is scaled to 0 replicas"
        + (f" (it ran {previous} before)." if previous else "."),
        faulty_resource=ctx.workload,
        faulty_field="spec.replicas",
        remediation=remediation,
        cited=_ids(cited),
    )


# --- node_pressure ------------------------------------------------------------------------------

_EVICTED = re.compile(r"The node (?:was low on resource|had condition): \[?(\w[\w-]*)", re.IGNORECASE)
_NODE_EVENT = re.compile(
    r"EvictionThresholdMet|NodeHas(?:Insufficient\w+|DiskPressure|PIDPressure)"
    r"|Attempting to reclaim|node\.kubernetes\.io/(?:memory|disk|pid)-pressure"
)


def node_pressure(ctx: RuleContext) -> Finding | None:
    """Pods evicted (or not scheduled) because nodes are under memory/disk/PID pressure."""
    view = ctx.view
    evicted = [p for p in view.pods if p.reason == "Evicted" or _EVICTED.search(p.message)]
    evict_events = view.events_matching(_EVICTED, ("Evicted",))
    node_events = view.events_matching(_NODE_EVENT)
    pressured = [n for n in view.nodes if n.pressures()]
    if not (evicted or evict_events or node_events or pressured):
        return None
    on_target = bool(
        evicted
        or evict_events
        or any(_PRESSURE_TAINT.search(e.message) for e in view.events_matching(_FAILED_SCHEDULING))
    )
    confidence = (0.8 if on_target else 0.4) + (0.1 if pressured or node_events else 0.0)
    node = (
        (pressured[0].node if pressured else "")
        or next((p.node for p in evicted if p.node), "")
        or next((e.involved_name for e in node_events if e.involved_kind == "Node"), "")
    )
    kinds = sorted({k for n in pressured for k in n.pressures()}) or sorted(
        {m.group(1) for p in evicted if (m := _EVICTED.search(p.message))}
    )
    return Finding(
        rule="node_pressure",
        category=RootCause.NODE_PRESSURE,
        confidence=confidence,
        explanation=f"Node {node or '?'} is under pressure ({', '.join(kinds) or 'resources'}) and evicts "
        "or refuses pods; the workload itself is not at fault.",
        faulty_resource=f"Node {node}" if node else ctx.workload,
        remediation=remedies.notify("node pressure needs a human (capacity, noisy neighbours)", node=node),
        cited=_ids(evicted, evict_events, node_events, pressured),
    )


# --- generic crash loop -------------------------------------------------------------------------

_BACKOFF = re.compile(r"Back-off restarting failed container", re.IGNORECASE)


def crash_loop(ctx: RuleContext) -> Finding | None:
    """A crash loop with no known signature: low confidence, escalate."""
    view = ctx.view
    looping = [c for c in view.containers if c.waiting_reason == "CrashLoopBackOff" or c.restart_count >= 3]
    events = view.events_matching(_BACKOFF, ("BackOff",))
    if not looping and not events:
        return None
    return Finding(
        rule="crash_loop",
        category=RootCause.UNKNOWN,
        confidence=0.3,
        explanation="Containers crash and restart (CrashLoopBackOff) without a recognisable signature in "
        "the logs, statuses or events.",
        faulty_resource=ctx.workload,
        remediation=remedies.notify("crash loop without a known signature: escalate"),
        cited=_ids(looping, events),
    )


CATALOGUE: tuple[Rule, ...] = (
    oom,
    bad_image,
    missing_config_key,
    missing_env,
    bad_command,
    readiness_probe,
    liveness_probe,
    unschedulable,
    dependency_down,
    bad_config_value,
    scaled_to_zero,
    node_pressure,
    crash_loop,
)
