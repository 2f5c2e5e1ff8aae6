"""missing_env: a crash whose log names an environment variable that is not set.

Signature: a log line naming an unset variable (the application's own wording, or an official image's
entrypoint asking for one, as postgres and mysql do) AND the container crashing (or failing) now AND
the variable really unset in the container's spec. A log line alone on a container that runs is
partial; a variable the spec does set is not this cause at all.

The fix restores the variable as the revision the workload last worked on defined it (else any
earlier revision not known to fail), else from a ConfigMap holding that key, else reverts the commit
still in effect that removed it; without any of these, humans set it.
A value that was a secret (a marker in the redacted evidence) is never copied: the commit is
reverted or the revision rolled back to, so the real value comes back.
"""

from __future__ import annotations

import re
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, history, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.logs import log_search
from agent.reasoners.rules.observations import find_container


def _env(n: int) -> str:
    return rf"['\"]?(?P<var{n}>[A-Z][A-Z0-9_]{{1,63}})['\"]?"


_MISSING_ENV = re.compile(
    rf"KeyError: {_env(1)}"
    rf"|(?:environment variable|env var(?:iable)?|env)\s+{_env(2)}\s+(?:is\s+)?"
    rf"(?:not set|missing|required|undefined|must be set|is required)"
    rf"|missing (?:required )?(?:environment variable|env var(?:iable)?)s?:?\s+{_env(3)}"
    rf"|\b{_env(4)} (?:environment variable )?(?:is not set|must be set|is required|not set)"
    # Official images' entrypoints: "You must specify POSTGRES_PASSWORD to a non-empty value",
    # "You need to specify one of the following as an environment variable:\n - MYSQL_ROOT_PASSWORD".
    rf"|\b(?:must|need to) specify (?:one of the following as an environment variable:\s*-\s*)?{_env(5)}",
)


def _var(match: re.Match[str]) -> str:
    return next(v for k, v in match.groupdict().items() if k.startswith("var") and v)


def missing_env(ctx: RuleContext) -> Finding | None:
    """A crash whose log names an unset environment variable."""
    view = ctx.view
    found = log_search(view, _MISSING_ENV) if view.unhealthy() else None
    if found is None:
        return None
    match, log_id, log_container = found
    var = _var(match)
    container = log_container or ctx.only_container()
    crashing = ctx.crashing()
    spec = (view.container_spec(container) if container else None) or {}
    current_env = {e.get("name") for e in spec.get("env") or [] if isinstance(e, dict)}
    if var in current_env:
        return None  # it is set; whatever the log says, this is not a missing variable
    cited = [log_id, *(c.item_id for c in crashing)]
    remediation, confidence = _restore_env(ctx, container, var, cited)
    missing = () if crashing or ctx.failing() else ("a container crashing or failing now",)
    return Finding(
        rule="missing_env",
        category=RootCause.MISSING_ENV,
        confidence=confidence,
        explanation=f"The application exits because the environment variable {var} is not set"
        + (f" in container {container}." if container else "."),
        faulty_resource=ctx.workload,
        faulty_field=fields.env(container, var) if container else None,
        remediation=remediation,
        cited=cite(cited),
        missing=missing,
    )


def _entry_of(container: str, var: str) -> history.Getter:
    def read(pod_spec: dict[str, Any]) -> Any:
        env = (find_container(pod_spec, container) or {}).get("env") or []
        return next((e for e in env if isinstance(e, dict) and e.get("name") == var), None)

    return read


def _restore_env(
    ctx: RuleContext, container: str | None, var: str, cited: list[str]
) -> tuple[ProposedRemediation, float]:
    view = ctx.view
    if container:
        good = history.known_good(view, _entry_of(container, var))
        if good is not None and good.value is not None:
            cited.extend(good.cited)
            if remedies.holds_marker(good.value) and good.revision is not None:
                return _restore_secret(ctx, var, good.revision.revision), 0.8
            why = f"restore {var} as {good.source} defined it"
            return remedies.set_env(container, var, good.value, why), 0.9 if good.proven else 0.85
        failing = history.known_failing(view)
        for revision in reversed(view.rollouts):
            if revision is view.current_revision or revision.revision in failing:
                continue
            entry = next(
                (e for e in (revision.container(container) or {}).get("env") or [] if e.get("name") == var),
                None,
            )
            if entry is not None:
                cited.append(revision.item_id)
                if remedies.holds_marker(entry):
                    return _restore_secret(ctx, var, revision.revision), 0.8
                why = f"restore {var} as revision {revision.revision} defined it"
                return remedies.set_env(container, var, entry, why), 0.85
        configmap = next((m for m in view.manifests if m.kind == "ConfigMap" and var in m.keys), None)
        if configmap is not None:
            cited.append(configmap.item_id)
            entry = {"name": var, "valueFrom": {"configMapKeyRef": {"name": configmap.name, "key": var}}}
            why = f"set {var} from ConfigMap {configmap.name}, which holds that key"
            return remedies.set_env(container, var, entry, why), 0.8
    commit = view.suspect_commit(re.compile(rf"\b{re.escape(var)}\b"))
    if commit is not None:
        cited.append(commit.item_id)
        return remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} removed {var}"), 0.85
    return remedies.notify(f"set {var}: its value cannot be derived from the evidence", env=var), 0.7


def _restore_secret(ctx: RuleContext, var: str, revision: int) -> ProposedRemediation:
    """`var` held a secret in `revision`: the evidence shows only its marker, so the fix refers to the
    value (reverting the commit that removed it, else rolling back to that revision) and never copies it."""
    commit = ctx.view.suspect_commit(re.compile(rf"\b{re.escape(var)}\b"))
    if commit is not None:
        return remedies.revert_commit(commit.sha, f"commit {commit.sha[:12]} removed {var}")
    return remedies.rollback(
        revision, f"revision {revision} defines {var}; its value is a secret, so rolling back restores it"
    )
