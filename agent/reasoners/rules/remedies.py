"""Builders for the remediations the rules propose: strategic-merge patches of a Deployment
(containers addressed by name, the list's merge key) and the actions around them.

Every `ProposedRemediation` the rules make is built here, and nowhere else.

The evidence is redacted (`tools.boundary`): a value copied out of it may be a marker standing for
a secret. A patch never carries one (`holds_marker`); where the fix needs a secret value it refers to
it instead, by rolling back to the revision that had it or reverting the commit that changed it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from agent.domain import (
    GitOpsPullRequest,
    NoAction,
    Notify,
    Patch,
    ProposedRemediation,
    RevertCommit,
    Rollback,
    Scale,
)
from agent.reasoners.rules import history
from agent.reasoners.rules.context import RuleContext
from agent.reasoners.rules.observations import RolloutObs
from tools.redaction import MARKER_PATTERN


def holds_marker(value: Any) -> bool:
    """True when `value` (a patch, an env entry, a probe) holds a redaction marker anywhere."""
    return MARKER_PATTERN.search(json.dumps(value, ensure_ascii=False, default=str)) is not None


def restore(current: Any, good: Any) -> Any:
    """A merge patch that turns `current` into `good`: mappings key by key, with None for each key
    `good` does not have (a strategic merge deletes it); anything else is `good` itself."""
    if isinstance(current, dict) and isinstance(good, dict):
        return {
            k: restore(current.get(k), good[k]) if k in good else None
            for k in dict.fromkeys([*good, *current])
            if k not in good or current.get(k) != good[k]
        }
    return good


def container_patch(container: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A strategic-merge patch setting `fields` on the named container of a Deployment's template."""
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}


def gitops_pr(patch: Patch, rationale: str, **notes: Any) -> GitOpsPullRequest:
    """Change the workload's manifest in Git with `patch`; `notes` say what it changes, for humans."""
    return GitOpsPullRequest(patch=patch, rationale=rationale, notes=notes)


def set_env(container: str, var: str, entry: Any, rationale: str) -> GitOpsPullRequest:
    """Set the container's variable `var` to `entry` (its env list item: `{"name": var, ...}`) in Git."""
    return gitops_pr(container_patch(container, {"env": [entry]}), rationale, container=container, env=var)


def rollback(revision: int, rationale: str, patch: Patch | None = None) -> Rollback:
    """Roll the workload back to an earlier revision; `patch` restates that revision's fields, so the
    same change can also be made in Git (where a bare rollout undo would be synced away)."""
    return Rollback(revision=revision, patch=patch, rationale=rationale)


def revert_commit(commit: str, rationale: str, **notes: Any) -> RevertCommit:
    """Open a pull request reverting a suspect commit."""
    return RevertCommit(commit=commit, rationale=rationale, notes=notes)


def scale(replicas: int, rationale: str) -> Scale:
    """Scale the workload to `replicas`."""
    return Scale(replicas=replicas, rationale=rationale)


def nothing(rationale: str, **notes: Any) -> NoAction:
    """Propose nothing: there is nothing to change."""
    return NoAction(rationale=rationale, notes=notes)


def notify(rationale: str, **notes: Any) -> Notify:
    """Tell humans and change nothing: the fix is out of reach or not derivable from the evidence."""
    return Notify(rationale=rationale, notes=notes)


NOTHING_TO_GO_BACK_TO = "no suspect commit and no earlier revision known to work to go back to"


def revert_or_rollback(
    ctx: RuleContext,
    commit_pattern: re.Pattern[str],
    what: str,
    container: str | None,
    fields: tuple[str, ...],
) -> tuple[ProposedRemediation, tuple[str, ...]]:
    """Revert the newest commit still in effect that changed `what`, else roll back to the revision the
    workload last worked on (restating its `fields` of `container`; never a revision known to fail),
    else notify; with the ids of the evidence that supports the fix."""
    commit = ctx.view.suspect_commit(commit_pattern)
    if commit is not None:
        return revert_commit(commit.sha, f"commit {commit.sha[:12]} changed the {what}"), (commit.item_id,)
    found = history.good_revision(ctx.view)
    if found is not None:
        good, proven = found
        patch = _fields_patch(ctx, good, container, fields)
        why = "its pods are ready now" if proven else "the last revision before the failing ones"
        return (
            rollback(good.revision, f"revision {good.revision} ran a different {what} ({why})", patch),
            (good.item_id,),
        )
    return notify(NOTHING_TO_GO_BACK_TO), ()


def _fields_patch(
    ctx: RuleContext, good: RolloutObs, container: str | None, fields: tuple[str, ...]
) -> Patch | None:
    """The `fields` of `container` as the good revision had them (None for those it did not have)."""
    if container is None:
        return None
    spec = good.container(container)
    if spec is None:
        return None
    now = ctx.view.container_spec(container) or {}
    values = {f: spec.get(f) for f in fields if f in spec or f in now}
    if not values or holds_marker(values):
        return None  # a secret in those fields: the rollback restores it, a patch could only copy markers
    return container_patch(container, values)
