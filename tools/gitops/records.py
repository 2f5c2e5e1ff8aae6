"""The typed records the GitOps operations answer with (commits, diffs, manifests, pull requests)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

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
    merged_by: str | None = None  # who merged it, when the provider knows
    closed_by: str | None = None  # who closed it unmerged, when the provider knows


@dataclass(frozen=True)
class Comment:
    """A comment posted on an issue or pull request."""

    id: int
    issue_number: int
    body: str
    url: str = ""
