"""missing_config_key: CreateContainerConfigError, a referenced ConfigMap/Secret key (or object) missing.

The fix reverts the commit that removed or renamed the key; without one, humans restore it.
"""

from __future__ import annotations

import re

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite

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
    hit = hit or next(((i, m) for i, text in sources if (m := _MISSING_OBJECT.search(text))), None)
    if hit is None:
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
            cited=cite(config_error),
        )
    item_id, match = hit
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
        remediation: ProposedRemediation = remedies.revert_commit(
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
        cited=cite(cited),
    )
