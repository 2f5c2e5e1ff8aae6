"""Builders for the remediations the rules propose: strategic-merge patches of a Deployment
(containers addressed by name, the list's merge key) and the actions around them."""

from __future__ import annotations

from typing import Any

from agent.domain import GitOpsPullRequest, Notify, Patch, RevertCommit, Rollback, Scale


def container_field(container: str, path: str) -> str:
    """The dotted path of a container field: `spec.template.spec.containers[app].<path>`."""
    return f"spec.template.spec.containers[{container}].{path}"


def container_patch(container: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A strategic-merge patch setting `fields` on the named container of a Deployment's template."""
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}


def gitops_pr(patch: Patch, rationale: str, **notes: Any) -> GitOpsPullRequest:
    """Change the workload's manifest in Git with `patch`; `notes` say what it changes, for humans."""
    return GitOpsPullRequest(patch=patch, rationale=rationale, notes=notes)


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


def notify(rationale: str, **notes: Any) -> Notify:
    """Tell humans and change nothing: the fix is out of reach or not derivable from the evidence."""
    return Notify(rationale=rationale, notes=notes)
