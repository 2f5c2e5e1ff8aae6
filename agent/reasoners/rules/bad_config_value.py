"""bad_config_value: the application rejects its configuration (a crash, or every request failing),
traced to the commit that changed a value and to the ConfigMap that holds it.

Signature: the workload failing (crashing, or failing requests) AND its log rejecting a setting AND
a commit still in effect that changed a configuration value. A rejected setting with no change to
trace it to is partial: the value may always have been so, and the cause be elsewhere.

The faulty field is the changed key (`data.KEY` of the ConfigMap, or the variable's
`env[NAME].value` in the workload). The fix reverts that commit; without one, humans find the value.
"""

from __future__ import annotations

import re
from typing import Any

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite
from agent.reasoners.rules.logs import log_search, serving_errors
from agent.reasoners.rules.observations import CommitObs

_BAD_VALUE = re.compile(
    r"invalid literal for int\(\) with base \d+|could not convert string to float"
    r"|strconv\.\w+: parsing \"[^\"]*\": invalid syntax"
    r"|invalid (?:value|setting|configuration|config)\b|(?:config|configuration) (?:error|is invalid)"
    r"|failed to (?:parse|load) (?:config|configuration|settings)|unknown (?:log )?level"
    r"|must be (?:an integer|a number|a boolean|one of|between)|out of (?:the allowed )?range"
    r"|NumberFormatException|is not a valid"
    # a word outside the set the program supports: `unsupported value 'x' for MODE (expected one of ...)`
    r"|unsupported value|not a supported value|unknown value|expected one of",
    re.IGNORECASE,
)
_VALUE_LINE = re.compile(r"^\s*(?:value:\s*\S|[A-Za-z_][\w.-]*:\s*[\"']?[^\s{\[]+)")
_NOT_CONFIG = re.compile(r"^\s*(?:-\s*)?(?:image|replicas|command|args)\s*:")
_CONFIG_KEY = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b")
_CHANGED_KEY = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*:")


def bad_config_value(ctx: RuleContext) -> Finding | None:
    """A crash on parsing configuration, traced to the commit that changed a value."""
    view = ctx.view
    found = log_search(view, _BAD_VALUE) if view.unhealthy() or serving_errors(view) else None
    if found is None:
        return None
    match, log_id, _ = found
    crashing = ctx.crashing()
    commit = _config_commit(ctx, match)
    cited = [log_id, *(c.item_id for c in crashing)]
    field = None
    if commit is not None:
        cited.append(commit.item_id)
        remediation: ProposedRemediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} changed a configuration value"
        )
        confidence = 0.85
        resource = _config_resource(ctx, commit)
        field = _changed_field(ctx, commit, resource)
    else:
        remediation = remedies.notify("the bad value is not traceable to a commit")
        confidence = 0.6
        resource = ctx.workload
    if not crashing:
        confidence -= 0.15
    if commit is not None and _names_changed_key(match, commit, field):
        confidence += 0.1  # the log names the very key the commit changed
    return Finding(
        rule="bad_config_value",
        category=RootCause.BAD_CONFIG_VALUE,
        confidence=confidence,
        explanation=f"The application rejects its configuration: {match.group(0)!r}.",
        faulty_resource=resource,
        faulty_field=field,
        remediation=remediation,
        cited=cite(cited),
        missing=() if commit is not None else ("a commit that changed a configuration value",),
    )


_ENV_NAME = re.compile(r"^\s*-?\s*name:\s*['\"]?([A-Za-z_][\w.-]*)")


def _changed_field(ctx: RuleContext, commit: CommitObs, resource: str) -> str | None:
    """The key whose value the commit changed: `data.KEY` of a ConfigMap, or `env[NAME].value`."""
    if resource.startswith("ConfigMap "):
        removed = {
            m.group(1)
            for line in commit.changed_lines()
            if line[0] == "-" and (m := _CHANGED_KEY.match(line[1:]))
        }
        added = [
            m.group(1)
            for line in commit.changed_lines()
            if line[0] == "+" and (m := _CHANGED_KEY.match(line[1:]))
        ]
        changed = [k for k in added if k in removed]
        return fields.data(changed[0]) if len(changed) == 1 else None
    name = None
    for line in commit.diff.splitlines():  # context lines too: the env entry's name precedes its value
        if line.startswith(("+++", "---")):
            continue
        body = line[1:] if line[:1] in " +-" else line
        if m := _ENV_NAME.match(body):
            name = m.group(1)
        elif line[:1] == "+" and re.match(r"^\s*value:", body) and name:
            owners = [
                c
                for c in ctx.view.container_names()
                if any(e.get("name") == name for e in (ctx.view.container_spec(c) or {}).get("env") or [])
            ]
            return fields.container(owners[0], f"env[{name}]", "value") if len(owners) == 1 else None
    return None


_FIELD_KEY = re.compile(r"env\[([^\]]+)\]|^data\.(.+)$")


def _names_changed_key(match: re.Match[str], commit: CommitObs, field: str | None) -> bool:
    """Whether the rejecting log line names a key the commit changed: on a changed line, or the
    key of the changed field (an env entry's name sits on a context line above its new value)."""
    line = _line_of(match)
    keys = set(_CONFIG_KEY.findall(line))
    if any(key in changed for changed in commit.changed_lines() for key in keys):
        return True
    named = _FIELD_KEY.search(field or "")
    key = (named.group(1) or named.group(2)) if named else None
    return bool(key) and re.search(rf"(?<![\w-]){re.escape(key or '')}(?![\w-])", line) is not None


def _config_commit(ctx: RuleContext, match: re.Match[str]) -> CommitObs | None:
    """The newest live commit that changed a configuration value; one that changed the value of a
    key the rejecting log line names comes first (a later commit may change another key)."""
    changed = [
        commit
        for commit in ctx.view.live_commits
        if any(
            _VALUE_LINE.search(line[1:]) and not _NOT_CONFIG.search(line[1:])
            for line in commit.changed_lines()
        )
    ]
    keys = set(_CONFIG_KEY.findall(_line_of(match)))
    naming = [c for c in changed if keys & _modified_keys(c)]
    chosen = naming or changed
    return chosen[0] if chosen else None


def _modified_keys(commit: CommitObs) -> set[str]:
    """Keys named on both a removed and an added line: a value changed, not a file first written."""
    lines = commit.changed_lines()
    removed = {k for line in lines if line[0] == "-" for k in _CONFIG_KEY.findall(line)}
    return removed & {k for line in lines if line[0] == "+" for k in _CONFIG_KEY.findall(line)}


def _line_of(match: re.Match[str]) -> str:
    """The whole line of the log text a match is on."""
    text = match.string
    end = text.find("\n", match.end())
    return text[text.rfind("\n", 0, match.start()) + 1 : len(text) if end < 0 else end]


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
