"""Builders for the remediations the rules propose: strategic-merge patches of a Deployment
(containers addressed by name, the list's merge key) and the actions around them."""

from __future__ import annotations

from typing import Any

from agent.domain import ActionType, ProposedRemediation


def container_field(container: str, path: str) -> str:
    """The dotted path of a container field: `spec.template.spec.containers[app].<path>`."""
    return f"spec.template.spec.containers[{container}].{path}"


def container_patch(container: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A strategic-merge patch setting `fields` on the named container of a Deployment's template."""
    return {"spec": {"template": {"spec": {"containers": [{"name": container, **fields}]}}}}


def gitops_pr(patch: dict[str, Any], rationale: str, **parameters: Any) -> ProposedRemediation:
    """Change the workload's manifest in Git with `patch`."""
    return ProposedRemediation(
        action=ActionType.GITOPS_PR, patch=patch, parameters=parameters, rationale=rationale
    )


def rollback(to_revision: int, rationale: str, patch: dict[str, Any] | None = None) -> ProposedRemediation:
    """Roll the workload back to an earlier revision; `patch` restates that revision's fields, so the
    same change can also be made in Git (where a bare rollout undo would be synced away)."""
    return ProposedRemediation(
        action=ActionType.ROLLBACK, parameters={"to_revision": to_revision}, patch=patch, rationale=rationale
    )


def revert_commit(sha: str, rationale: str, **parameters: Any) -> ProposedRemediation:
    """Open a pull request reverting a suspect commit."""
    return ProposedRemediation(
        action=ActionType.REVERT_COMMIT, parameters={"sha": sha, **parameters}, rationale=rationale
    )


def scale(replicas: int, rationale: str) -> ProposedRemediation:
    """Scale the workload to `replicas`."""
    return ProposedRemediation(
        action=ActionType.SCALE,
        parameters={"replicas": replicas},
        patch={"spec": {"replicas": replicas}},
        rationale=rationale,
    )


def notify(rationale: str, **parameters: Any) -> ProposedRemediation:
    """Tell humans and change nothing: the fix is out of reach or not derivable from the evidence."""
    return ProposedRemediation(action=ActionType.NOTIFY, parameters=parameters, rationale=rationale)
