"""The GitOps repository interface and the typed records its operations answer with.

Every operation answers a `ToolResult` (see `tools.result`) and emits one trace event; writes
(commit a patched manifest, open a pull request, open a revert pull request, merge) take a
`PolicyGuard` and refuse without touching the repository unless it allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from tools.guard import PolicyGuard, WriteRequest
from tools.result import ToolFailure, ToolResult, ToolStatus

PullState = Literal["open", "merged", "closed"]


@dataclass(frozen=True)
class Workload:
    """What a manifest defines: kind and name, and the namespace when known."""

    kind: str
    name: str
    namespace: str | None = None

    def __post_init__(self) -> None:
        if not self.kind or not self.name:
            raise ValueError("a workload needs a kind and a name")


@dataclass(frozen=True)
class CommitInfo:
    """One commit: who, when, why and which files it touched."""

    sha: str
    author: str
    date: datetime  # when it was committed (what time-window queries filter on)
    message: str
    files: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The first line of the message."""
        return self.message.splitlines()[0] if self.message else ""


@dataclass(frozen=True)
class FileDiff:
    """One file's change in a commit, as a unified diff (`patch` is empty for binary files)."""

    path: str
    status: str  # added, modified, removed, renamed
    patch: str


@dataclass(frozen=True)
class CommitDiff:
    """A commit and its per-file diffs."""

    commit: CommitInfo
    files: tuple[FileDiff, ...]

    @property
    def text(self) -> str:
        """All file diffs as one unified diff."""
        return "\n".join(f"--- a/{f.path}\n+++ b/{f.path}\n{f.patch}".rstrip("\n") for f in self.files) + "\n"


@dataclass(frozen=True)
class ManifestLocation:
    """Where a workload is defined: the file, the document's index among the file's documents."""

    path: str
    document_index: int
    kind: str
    name: str
    namespace: str | None = None


@dataclass(frozen=True)
class ManifestCommit:
    """A patched manifest committed on a branch, with the YAML diff for the pull request."""

    branch: str
    sha: str
    location: ManifestLocation
    diff: str


@dataclass(frozen=True)
class PullRequestSpec:
    """What a pull request says. The body is rendered from root cause, evidence and diff."""

    title: str
    root_cause: str
    fingerprint: str
    evidence: Sequence[str] = ()
    diff: str = ""
    labels: Sequence[str] = ()
    extra: str = ""  # free text appended to the body (e.g. the proposed remediation)

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a pull request needs a title")
        if not self.fingerprint.strip() or any(c.isspace() for c in self.fingerprint):
            raise ValueError("the fingerprint must be a non-empty token without whitespace")


@dataclass(frozen=True)
class PullRequest:
    """A pull request as the providers report it."""

    number: int
    url: str
    title: str
    head: str
    base: str
    state: PullState
    labels: tuple[str, ...] = ()
    fingerprint: str | None = None
    body: str = ""
    merge_sha: str | None = None


@dataclass(frozen=True)
class Comment:
    """A comment posted on an issue or pull request."""

    id: int
    issue_number: int
    body: str
    url: str = ""


def write_request(
    action: str, workload: Workload, patch: Mapping[str, Any] | None = None, **parameters: Any
) -> WriteRequest:
    """The guard's view of a repository write done for `workload`."""
    return WriteRequest(
        action=action,
        namespace=workload.namespace or "",
        kind=workload.kind,
        name=workload.name,
        patch=patch,
        parameters=parameters,
    )


def check_guard(guard: PolicyGuard, request: WriteRequest) -> None:
    """Raise the refusal as a `ToolFailure` (DENIED / NEEDS_APPROVAL) unless the guard allows."""
    decision = guard(request)
    if decision.allowed:
        return
    status = ToolStatus.NEEDS_APPROVAL if decision.verdict.value == "needs_approval" else ToolStatus.DENIED
    raise ToolFailure(f"{request.action} refused by policy: {decision.reason}", status=status)


class GitOpsRepo(Protocol):
    """A repository of Kubernetes manifests that Paramedic reads and proposes changes to."""

    @property
    def base_branch(self) -> str:
        """The branch a GitOps sync deploys from (pull requests target it)."""
        ...

    def recent_commits(
        self,
        *,
        path: str | None = None,
        workload: Workload | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ref: str | None = None,
        limit: int = 20,
    ) -> ToolResult[list[CommitInfo]]:
        """Commits on `ref` (default: base) touching `path` or the workload's manifest, newest first."""
        ...

    def commit_diff(self, sha: str) -> ToolResult[CommitDiff]:
        """The diff a commit introduced against its first parent."""
        ...

    def read_file(self, path: str, ref: str | None = None) -> ToolResult[str]:
        """A file's text at `ref` (default: base branch)."""
        ...

    def find_manifest(self, workload: Workload, ref: str | None = None) -> ToolResult[ManifestLocation]:
        """The file and document that define the workload."""
        ...

    def create_branch(self, name: str, from_ref: str | None = None) -> ToolResult[str]:
        """Create branch `name` at `from_ref` (default: base branch); answers the commit sha."""
        ...

    def commit_manifest_patch(
        self,
        location: ManifestLocation,
        patch: Mapping[str, Any],
        *,
        branch: str,
        message: str,
        guard: PolicyGuard,
        action: str = "commit_manifest",
    ) -> ToolResult[ManifestCommit]:
        """Strategic-merge `patch` into the manifest document on `branch` and commit it.

        `action` is what the guard judges; pass `rollback` for an image change that rolls back.
        """
        ...

    def open_pull_request(
        self,
        spec: PullRequestSpec,
        *,
        head: str,
        guard: PolicyGuard,
        workload: Workload,
        base: str | None = None,
    ) -> ToolResult[PullRequest]:
        """Open a pull request from `head`; refuses when one is already open for the fingerprint."""
        ...

    def find_open_pull_request(self, fingerprint: str) -> ToolResult[PullRequest | None]:
        """The open pull request carrying this incident fingerprint, if any."""
        ...

    def get_pull_request(self, number: int) -> ToolResult[PullRequest]:
        """One pull request by number."""
        ...

    def comment_on_issue(self, number: int, body: str) -> ToolResult[Comment]:
        """Post a comment on an issue or pull request (report-only mode)."""
        ...

    def open_revert_pull_request(
        self,
        sha: str,
        spec: PullRequestSpec,
        *,
        guard: PolicyGuard,
        workload: Workload,
        base: str | None = None,
    ) -> ToolResult[PullRequest]:
        """Open a pull request that reverts commit `sha` on top of the base branch."""
        ...

    def merge_pull_request(
        self, number: int, *, guard: PolicyGuard, workload: Workload
    ) -> ToolResult[PullRequest]:
        """Merge an open pull request into its base with a merge commit."""
        ...
