"""missing_config_key: a ConfigMap (or a key of one) that the pods reference does not exist.

Signature: the kubelet names the missing ConfigMap or key (`configmap "x" not found`, `couldn't
find key K in ConfigMap ns/x`, or a FailedMount of a configMap volume) AND the pods fail on it now
(a container waiting in CreateContainerConfigError, or pods not started). A CreateContainerConfigError
that names nothing, or an old event on pods that run, is partial. A missing *Secret* is
`missing_secret`'s.

Who is at fault: the workload's reference when it changed since the revision that worked (the fix
points it back), else the ConfigMap (`data.KEY`): the fix reverts the commit still in effect that
removed or renamed the key; without one, humans restore it.
"""

from __future__ import annotations

import re

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import config_refs, remedies
from agent.reasoners.rules.context import Finding, RuleContext, cite


def missing_config_key(ctx: RuleContext) -> Finding | None:
    """A referenced ConfigMap key (or the ConfigMap) does not exist, and the pods fail on it."""
    view = ctx.view
    config_error = [c for c in view.containers if c.reasons & set(config_refs.CONFIG_ERRORS)]
    refs = config_refs.missing_refs(ctx)
    ref = next((r for r in refs if r.kind == "ConfigMap"), None)
    if ref is None:
        if not config_error or any(r.kind == "Secret" for r in refs):
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
            missing=("the missing ConfigMap or key named",),
        )
    facts = config_refs.ref_facts(ctx, ref)
    changed = config_refs.changed_finding(ctx, ref, facts, "missing_config_key", RootCause.MISSING_CONFIG_KEY)
    if changed is not None:
        return changed
    key, cited = facts.key, list(facts.cited)
    key_line = re.compile(rf"^\s*{re.escape(key)}\s*:") if key else re.compile(rf"\b{re.escape(ref.name)}\b")
    commit = view.suspect_commit(key_line)
    if commit is not None:
        remediation: ProposedRemediation = remedies.revert_commit(
            commit.sha, f"commit {commit.sha[:12]} removed or renamed {ref.what}"
        )
        cited.append(commit.item_id)
        confidence = 0.9
    else:
        remediation = remedies.notify(f"restore {ref.what}, or fix the reference to it", missing=ref.what)
        confidence = 0.85
    return config_refs.missing_finding(
        ctx,
        ref,
        facts,
        rule="missing_config_key",
        category=RootCause.MISSING_CONFIG_KEY,
        remediation=remediation,
        confidence=confidence,
        cited=cited,
    )
