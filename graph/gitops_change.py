"""A change made the GitOps way: a branch, a commit of the YAML patch, a pull request, maybe a merge.

One function per kind of Git change (`propose_patch`, `propose_revert`); both answer a
`GitChange` the remediation and rollback nodes turn into an audit entry. Every write goes through
the repository's guard (the remediation policy), so Git tools can do nothing policy forbids.

Idempotent across a crash: the branch name is a function of the run and attempt, and an open pull
request carrying the incident's fingerprint is reused rather than duplicated. A patch that
changes nothing on the base branch means the change is already there (the same step merged
before the crash), which is reported as such instead of failing; so is a revert whose reverting
commit is already on the base branch. A change found merged that way still carries a commit to
revert (`merge_sha`), so the rollback node can take it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from graph.action_records import ChangeFacts, UndoHint
from tools.gitops.base import GitOpsRepo
from tools.gitops.records import PullRequest, PullRequestSpec, Workload
from tools.guard import PolicyGuard

NOTHING_TO_CHANGE = "changes nothing"
ALREADY_MERGED = "has no commits that"


@dataclass(frozen=True)
class GitChange:
    """What a Git change came to: ok or not, the pull request, whether it is live (merged)."""

    ok: bool
    detail: str
    diff: str = ""
    pr: PullRequest | None = None
    merged: bool = False
    merge_sha: str | None = None
    steps: list[str] = field(default_factory=list)  # what was done, in order, for the audit record

    @classmethod
    def already_live(cls, detail: str, diff: str, merge_sha: str | None, steps: list[str]) -> GitChange:
        """The change was merged before this step looked (a step resumed after a crash): it is live,
        and `merge_sha` (when known) is the commit a revert undoes."""
        return cls(True, detail, diff, merged=True, merge_sha=merge_sha, steps=steps)

    @property
    def pr_url(self) -> str:
        """The pull request's URL, "" when there is none."""
        return self.pr.url if self.pr else ""

    def entry_fields(self, *, undoable: bool) -> ChangeFacts:
        """The `ActionEntry` keys this change sets: live or waiting for a merge, the PR, how to undo it."""
        fields: ChangeFacts = {
            "applied": self.ok and self.merged,
            "pending_merge": self.ok and not self.merged,
        }
        if self.pr_url:
            fields["pr_url"] = self.pr_url
        if self.pr is not None:
            fields["pr_number"] = self.pr.number
        if undoable and self.merge_sha:
            fields["undo"] = UndoHint(kind="revert", commit=self.merge_sha)
        return fields


def branch_name(fingerprint: str, run_id: str, attempt: int, purpose: str = "fix") -> str:
    """The branch of one run's attempt: the same step always writes the same branch."""
    return f"paramedic/{purpose}-{fingerprint[:12]}-{run_id[:8]}-a{attempt}"


def _finish(
    repo: GitOpsRepo,
    pr: PullRequest,
    *,
    merge: bool,
    guard: PolicyGuard,
    workload: Workload,
    diff: str,
    steps: list[str],
) -> GitChange:
    """Merge `pr` when asked to; otherwise leave it for a human."""
    if not merge:
        return GitChange(True, f"pull request #{pr.number} opened; waits for a merge", diff, pr, steps=steps)
    merged = repo.merge_pull_request(pr.number, guard=guard, workload=workload)
    if not merged.ok or merged.data is None:
        steps.append(f"merge #{pr.number} failed: {merged.error}")
        return GitChange(
            False, f"pull request #{pr.number} could not be merged: {merged.error}", diff, pr, steps=steps
        )
    steps.append(f"merged #{pr.number} as {merged.data.merge_sha}")
    return GitChange(
        True,
        f"pull request #{pr.number} merged into {merged.data.base}",
        diff,
        merged.data,
        merged=True,
        merge_sha=merged.data.merge_sha,
        steps=steps,
    )


def _reuse_open(
    repo: GitOpsRepo, fingerprint: str, steps: list[str]
) -> tuple[PullRequest | None, str | None]:
    """The open pull request already carrying the fingerprint (a resumed step), or an error."""
    found = repo.find_open_pull_request(fingerprint)
    if not found.ok:
        return None, f"could not check for an open pull request: {found.error}"
    if found.data is not None:
        steps.append(f"reused open pull request #{found.data.number}")
    return found.data, None


def _resume_open(
    repo: GitOpsRepo,
    fingerprint: str,
    steps: list[str],
    *,
    merge: bool,
    guard: PolicyGuard,
    workload: Workload,
) -> GitChange | None:
    """Finish the pull request a crashed step left open (or fail closed); None when there is none."""
    existing, error = _reuse_open(repo, fingerprint, steps)
    if error:
        return GitChange(False, error, steps=steps)
    if existing is not None:
        return _finish(repo, existing, merge=merge, guard=guard, workload=workload, diff="", steps=steps)
    return None


def propose_patch(
    repo: GitOpsRepo,
    workload: Workload,
    patch: Mapping[str, Any],
    *,
    spec: PullRequestSpec,
    branch: str,
    guard: PolicyGuard,
    merge: bool,
    guard_action: str = "commit_manifest",
) -> GitChange:
    """Commit `patch` to the workload's manifest on `branch`, open a pull request, merge when asked."""
    steps: list[str] = []
    resumed = _resume_open(repo, spec.fingerprint, steps, merge=merge, guard=guard, workload=workload)
    if resumed is not None:
        return resumed

    location = repo.find_manifest(workload)
    if not location.ok or location.data is None:
        return GitChange(
            False, f"the manifest of {workload.kind}/{workload.name} is not in Git: {location.error}"
        )
    steps.append(f"found {location.data.path} (document {location.data.document_index})")
    created = repo.create_branch(branch)
    if created.ok:
        steps.append(f"created branch {branch}")
    else:
        steps.append(f"branch {branch} not created ({created.error}); committing on it as it stands")
    message = f"{spec.title}\n\nParamedic-Fingerprint: {spec.fingerprint}"
    commit = repo.commit_manifest_patch(
        location.data, patch, branch=branch, message=message, guard=guard, action=guard_action
    )
    if not commit.ok or commit.data is None:
        error_text = commit.error or "unknown error"
        if NOTHING_TO_CHANGE in error_text and not created.ok:
            # The branch is from before a crash and holds the change already; find or open its PR below.
            steps.append("the branch already holds the change")
        elif NOTHING_TO_CHANGE in error_text:
            return GitChange(
                True, "the base branch already holds this change", steps=[*steps, error_text], merged=True
            )
        else:
            return GitChange(False, f"commit failed: {error_text}", steps=steps)
    diff = commit.data.diff if commit.ok and commit.data else ""
    if commit.ok and commit.data:
        steps.append(f"committed {commit.data.sha[:12]} on {branch}")
    full = replace(spec, diff=diff or spec.diff)
    opened = repo.open_pull_request(full, head=branch, guard=guard, workload=workload)
    if not opened.ok or opened.data is None:
        if not created.ok and ALREADY_MERGED in (opened.error or ""):
            # Merged by this same step before a restart: the change is on the base branch.
            steps.append(f"{branch} is already merged")
            # The branch's commit is on the base branch: reverting it undoes the change.
            head = repo.recent_commits(ref=branch, limit=1)
            undo = head.data[0].sha if head.ok and head.data else None
            detail = f"{branch} was already merged into the base branch"
            return GitChange.already_live(detail, diff, undo, steps)
        return GitChange(False, f"pull request not opened: {opened.error}", diff, steps=steps)
    steps.append(f"opened pull request #{opened.data.number}")
    return _finish(repo, opened.data, merge=merge, guard=guard, workload=workload, diff=diff, steps=steps)


def propose_revert(
    repo: GitOpsRepo,
    workload: Workload,
    sha: str,
    *,
    spec: PullRequestSpec,
    guard: PolicyGuard,
    merge: bool,
) -> GitChange:
    """Open a pull request reverting commit `sha` on the base branch, merge when asked."""
    steps: list[str] = []
    resumed = _resume_open(repo, spec.fingerprint, steps, merge=merge, guard=guard, workload=workload)
    if resumed is not None:
        return resumed
    diff_result = repo.commit_diff(sha)
    diff = diff_result.data.text if diff_result.ok and diff_result.data else ""
    opened = repo.open_revert_pull_request(sha, spec, guard=guard, workload=workload)
    if not opened.ok or opened.data is None:
        full = diff_result.data.commit.sha if diff_result.ok and diff_result.data else sha
        done = _revert_on_base(repo, full)
        if done is not None:
            # Merged by this same step before a restart (or reverted already): the change is live.
            steps.append(f"{full[:12]} is already reverted on {repo.base_branch} by {done[:12]}")
            detail = f"commit {full[:12]} is already reverted on {repo.base_branch}"
            return GitChange.already_live(detail, _reversed(diff), done, steps)
        return GitChange(
            False, f"revert pull request not opened: {opened.error}", _reversed(diff), steps=steps
        )
    steps.append(f"opened revert pull request #{opened.data.number} for {sha[:12]}")
    return _finish(
        repo, opened.data, merge=merge, guard=guard, workload=workload, diff=_reversed(diff), steps=steps
    )


def _revert_on_base(repo: GitOpsRepo, sha: str, limit: int = 50) -> str | None:
    """The commit on the base branch that reverts `sha` (both providers say so in its message)."""
    recent = repo.recent_commits(ref=repo.base_branch, limit=limit)
    if not recent.ok or not recent.data:
        return None
    marker = f"This reverts commit {sha}"
    return next((c.sha for c in recent.data if marker in c.message), None)


def _reversed(diff: str) -> str:
    """A unified diff read backwards (what reverting it does), for the audit record."""
    out: list[str] = []
    for line in diff.splitlines():
        if line.startswith("+++") or line.startswith("---"):
            out.append(line)
        elif line.startswith("+"):
            out.append("-" + line[1:])
        elif line.startswith("-"):
            out.append("+" + line[1:])
        else:
            out.append(line)
    return "\n".join(out)
