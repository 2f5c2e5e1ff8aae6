"""missing_secret: a Secret (or a key of one) that the pods reference does not exist.

Signature: the kubelet names the missing Secret or key (`secret "x" not found`, `couldn't find key
K in Secret ns/x`, or `MountVolume.SetUp failed for volume "v" : secret "x" not found`) AND the pods
fail on it now (a container waiting in CreateContainerConfigError, or pods not started). An old
event on pods that run is partial.

Who is at fault: the workload's reference when it changed since the revision that worked (the fix
points it back, or reverts the commit that made it), else the Secret (`data.KEY`). Paramedic never
writes Secret data, whose values must not leave the cluster: it reverts a commit still in effect
that removed the key or the Secret's manifest (a sealed or external secret kept in Git), else
humans restore it.
"""

from __future__ import annotations

import re

from agent.domain import ProposedRemediation, RootCause
from agent.reasoners.rules import config_refs, remedies
from agent.reasoners.rules.context import Finding, RuleContext


def missing_secret(ctx: RuleContext) -> Finding | None:
    """A referenced Secret (or a key of it) does not exist, and the pods fail on it."""
    view = ctx.view
    ref = next((r for r in config_refs.missing_refs(ctx) if r.kind == "Secret"), None)
    if ref is None:
        return None
    facts = config_refs.ref_facts(ctx, ref)
    changed = config_refs.changed_finding(ctx, ref, facts, "missing_secret", RootCause.MISSING_SECRET)
    if changed is not None:
        return changed
    key, cited = facts.key, list(facts.cited)
    named = (
        re.compile(rf"(?:^|\s|['\"]){re.escape(key)}\s*:")
        if key
        else re.compile(rf"\b{re.escape(ref.name)}\b")
    )
    commit = next(
        (
            c
            for c in view.live_commits
            if c.changes(named) and any(line.startswith("-") for line in c.changed_lines())
        ),
        None,
    )
    if commit is not None:
        why = f"commit {commit.sha[:12]} removed {ref.what}"
        remediation: ProposedRemediation = remedies.revert_commit(commit.sha, why)
        cited.append(commit.item_id)
        confidence = 0.85
    else:
        remediation = remedies.notify(
            f"create {ref.what} (Paramedic never writes Secret values), or fix the reference to it",
            missing=ref.what,
        )
        confidence = 0.85
    return config_refs.missing_finding(
        ctx,
        ref,
        facts,
        rule="missing_secret",
        category=RootCause.MISSING_SECRET,
        remediation=remediation,
        confidence=confidence,
        cited=cited,
    )
