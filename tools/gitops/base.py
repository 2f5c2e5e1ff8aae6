"""The GitOps repository interface and the flow every provider shares.

`GitOpsRepo` holds what does not depend on where the repository lives: argument checks, the
policy guard before every write (commit a patched manifest, open a pull request, open a revert
pull request, merge), one open pull request per incident fingerprint, and one `ToolResult` and
trace event per operation. A provider (`LocalGitRepo`, `GitHubRepo`) implements only the
primitives below the line: resolve a ref, list and read files, write a commit, store pull
requests.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from itertools import islice
from typing import Any, ClassVar, TypeVar

from tools.gitops.body import fingerprint_of
from tools.gitops.finder import ManifestNotFound, ReadMany, locate
from tools.gitops.manifests import ManifestError, patch_text, unified_diff
from tools.gitops.records import (
    Comment,
    CommitDiff,
    CommitInfo,
    ManifestCommit,
    ManifestLocation,
    PullRequest,
    PullRequestSpec,
    Workload,
)
from tools.guard import PolicyGuard, WriteRequest, enforce
from tools.result import RetryPolicy, ToolFailure, ToolResult, ToolStatus, TraceSink, call_tool

T = TypeVar("T")
_LOCATED_MAX = 256  # manifest locations remembered per repository (see GitOpsRepo._located)


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


def revert_message(title: str, sha: str) -> str:
    """The message of a commit reverting `sha` (titled `title`), as `git revert` writes it."""
    return f'Revert "{title}"\n\nThis reverts commit {sha}.\n'


def revert_branch(sha: str, fingerprint: str) -> str:
    """The branch a revert pull request for incident `fingerprint` is proposed from."""
    return f"paramedic/revert-{sha[:12]}-{fingerprint[:8]}"


class GitOpsRepo(ABC):
    """A repository of Kubernetes manifests that Paramedic reads and proposes changes to."""

    provider: ClassVar[str]  # named in every trace event
    # The provider's own errors, turned into `ToolFailure`s by `_failure`.
    provider_errors: ClassVar[tuple[type[Exception], ...]] = ()

    def __init__(self, *, base_branch: str, sink: TraceSink, retry: RetryPolicy) -> None:
        self._base = base_branch
        self._sink = sink
        self._retry = retry
        # Where each workload is defined, per commit sha: a commit's files never change, and one
        # run asks several times (evidence, recent commits, the patch), each a round-trip YAML
        # parse of the candidate files. Failures are not kept (they are asked again).
        self._located: dict[tuple[str, Workload], ManifestLocation] = {}

    @property
    def base_branch(self) -> str:
        """The branch a GitOps sync deploys from (pull requests target it)."""
        return self._base

    # -- reads ----------------------------------------------------------------------------

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
        """Commits on `ref` (default: base) touching `path` and/or the workload's manifest, newest first."""
        ref = ref or self._base

        def run() -> list[CommitInfo]:
            if limit < 1:
                raise ToolFailure("limit must be at least 1")
            for when in (since, until):
                if when is not None and when.tzinfo is None:
                    raise ToolFailure("since/until must be timezone-aware datetimes")
            paths = [path] if path else []
            if workload is not None:
                paths.append(self._locate(workload, ref).path)
            return self._history(ref, paths, since, until, limit)

        arguments = {"path": path, "workload": workload, "since": since, "until": until, "ref": ref}
        return self._call("recent_commits", arguments, run, lambda c: f"{len(c)} commits")

    def commit_diff(self, sha: str) -> ToolResult[CommitDiff]:
        """The diff a commit introduced against its first parent."""
        return self._call(
            "commit_diff", {"sha": sha}, lambda: self._diff(sha), lambda d: f"{len(d.files)} files changed"
        )

    def read_file(self, path: str, ref: str | None = None) -> ToolResult[str]:
        """A file's text at `ref` (default: base branch)."""
        ref = ref or self._base
        arguments = {"path": path, "ref": ref}
        return self._call("read_file", arguments, lambda: self._read(path, ref), lambda t: f"{len(t)} chars")

    def find_manifest(self, workload: Workload, ref: str | None = None) -> ToolResult[ManifestLocation]:
        """The file and document that define the workload at `ref` (default: base branch)."""
        ref = ref or self._base
        return self._call(
            "find_manifest",
            {"workload": workload, "ref": ref},
            lambda: self._locate(workload, ref),
            lambda loc: f"{loc.path}#{loc.document_index}",
        )

    # -- writes ---------------------------------------------------------------------------

    def create_branch(self, name: str, from_ref: str | None = None) -> ToolResult[str]:
        """Create branch `name` at `from_ref` (default: base branch); answers its commit sha."""
        from_ref = from_ref or self._base

        def run() -> str:
            sha = self._resolve(from_ref)
            self._create_ref(name, sha)
            return sha

        return self._call("create_branch", {"name": name, "from_ref": from_ref}, run, lambda s: s[:12])

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
        """Strategic-merge `patch` into the manifest document on `branch` and commit it there.

        `action` is what the guard judges; pass `rollback` for an image change that rolls back.
        """
        workload = Workload(location.kind, location.name, location.namespace)

        def run() -> ManifestCommit:
            enforce(guard, write_request(action, workload, patch, path=location.path, branch=branch))
            if branch == self._base:
                raise ToolFailure(f"refusing to commit on the base branch {branch!r}; use a pull request")
            if not message.strip():
                raise ToolFailure("a commit needs a message")
            before, version = self._read_for_update(location.path, branch)
            after = patch_text(before, location.document_index, patch, location.path)
            if after == before:
                raise ToolFailure(f"the patch changes nothing in {location.path}")
            sha = self._commit_file(
                location.path, after, branch=branch, message=message.strip(), version=version
            )
            return ManifestCommit(branch, sha, location, unified_diff(before, after, location.path))

        arguments = {"location": location, "patch": patch, "branch": branch, "action": action}
        return self._call("commit_manifest_patch", arguments, run, lambda c: f"{c.branch}@{c.sha[:12]}")

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
        base = base or self._base

        def run() -> PullRequest:
            enforce(guard, write_request("open_pr", workload, head=head, base=base, title=spec.title))
            self._refuse_duplicate(spec.fingerprint)
            return self._create_pull(spec, head, base)

        arguments = {"title": spec.title, "head": head, "base": base, "fingerprint": spec.fingerprint}
        return self._call("open_pull_request", arguments, run, lambda p: f"#{p.number} {p.head} -> {p.base}")

    def find_open_pull_request(self, fingerprint: str) -> ToolResult[PullRequest | None]:
        """The open pull request carrying this incident fingerprint (body marker or label), if any."""
        return self._call(
            "find_open_pull_request",
            {"fingerprint": fingerprint},
            lambda: self._find_open(fingerprint),
            lambda p: f"#{p.number}" if p else "none open",
        )

    def open_pull_requests(self, limit: int = 20) -> ToolResult[list[PullRequest]]:
        """The open pull requests (at most `limit`, in the provider's order): a read for investigators."""

        def run() -> list[PullRequest]:
            if limit < 1:
                raise ToolFailure("limit must be at least 1")
            return list(islice(self._open_pulls(), limit))

        return self._call("open_pull_requests", {"limit": limit}, run, lambda p: f"{len(p)} open")

    def get_pull_request(self, number: int) -> ToolResult[PullRequest]:
        """One pull request by number."""
        return self._call(
            "get_pull_request",
            {"number": number},
            lambda: self._get_pull(number),
            lambda p: f"#{p.number} {p.state}",
        )

    def comment_on_issue(self, number: int, body: str) -> ToolResult[Comment]:
        """Comment on issue or pull request `number` (report-only mode posts diagnoses this way)."""

        def run() -> Comment:
            if not body.strip():
                raise ToolFailure("a comment needs a body")
            return self._comment(number, body)

        return self._call("comment_on_issue", {"number": number}, run, lambda c: f"comment {c.id}")

    def open_revert_pull_request(
        self,
        sha: str,
        spec: PullRequestSpec,
        *,
        guard: PolicyGuard,
        workload: Workload,
        base: str | None = None,
    ) -> ToolResult[PullRequest]:
        """Open a pull request that reverts commit `sha` (against its first parent) on top of the base."""
        base = base or self._base

        def run() -> PullRequest:
            enforce(guard, write_request("revert", workload, commit=sha, base=base))
            self._refuse_duplicate(spec.fingerprint)
            reverted, commit = self._write_revert(sha, base)
            branch = revert_branch(reverted, spec.fingerprint)
            self._create_ref(branch, commit)
            return self._create_pull(spec, branch, base)

        arguments = {"sha": sha, "base": base, "fingerprint": spec.fingerprint}
        return self._call("open_revert_pull_request", arguments, run, lambda p: f"#{p.number} {p.head}")

    def list_pull_requests(self, *, state: str = "all", limit: int = 100) -> ToolResult[list[PullRequest]]:
        """Pull requests, newest first: `open` ones or `all` (at most `limit`)."""

        def run() -> list[PullRequest]:
            if state not in ("open", "all"):
                raise ToolFailure(f"state must be 'open' or 'all', not {state!r}")
            if limit < 1:
                raise ToolFailure("limit must be at least 1")
            pulls = self._open_pulls() if state == "open" else self._all_pulls(limit)
            return sorted(pulls, key=lambda p: p.number, reverse=True)[:limit]

        return self._call(
            "list_pull_requests", {"state": state, "limit": limit}, run, lambda p: f"{len(p)} pull requests"
        )

    def pull_request_diff(self, number: int) -> ToolResult[str]:
        """The unified diff a pull request makes to its base (what merging it changes)."""
        return self._call(
            "pull_request_diff",
            {"number": number},
            lambda: self._pull_diff(self._get_pull(number)),
            lambda d: f"{len(d.splitlines())} diff lines",
        )

    def merge_pull_request(
        self, number: int, *, guard: PolicyGuard, workload: Workload, by: str | None = None
    ) -> ToolResult[PullRequest]:
        """Merge an open pull request into its base with a merge commit; `by` names a human merging it."""

        def run() -> PullRequest:
            refusal = self._merge_refusal()
            if refusal is not None:
                raise ToolFailure(refusal, status=ToolStatus.DENIED)
            enforce(guard, write_request("merge", workload, number=number))
            pull = self._get_pull(number)
            if pull.state != "open":
                raise ToolFailure(f"pull request #{number} is {pull.state}, not open")
            return self._merge(pull, by)

        arguments = {"number": number, "by": by}
        return self._call("merge_pull_request", arguments, run, lambda p: f"#{p.number} merged")

    def close_pull_request(
        self, number: int, *, guard: PolicyGuard, workload: Workload, by: str | None = None, comment: str = ""
    ) -> ToolResult[PullRequest]:
        """Close an open pull request without merging it, with an optional comment saying why."""

        def run() -> PullRequest:
            enforce(guard, write_request("close_pr", workload, number=number))
            pull = self._get_pull(number)
            if pull.state != "open":
                raise ToolFailure(f"pull request #{number} is {pull.state}, not open")
            if comment.strip():
                self._comment(number, comment.strip())
            return self._close(pull, by)

        arguments = {"number": number, "by": by}
        return self._call("close_pull_request", arguments, run, lambda p: f"#{p.number} closed")

    # -- the shared plumbing --------------------------------------------------------------

    def _call(
        self, op: str, arguments: Mapping[str, Any], fn: Callable[[], T], summarize: Callable[[T], str]
    ) -> ToolResult[T]:
        """Run operation `op` through `call_tool`: one result, one trace event, the provider's retries."""

        def guarded() -> T:
            try:
                return fn()
            except (ManifestError, ManifestNotFound) as exc:
                raise ToolFailure(str(exc)) from None
            except self.provider_errors as exc:
                raise self._failure(exc, op) from None

        args = {"provider": self.provider, **self._trace_arguments(), **arguments}
        return call_tool(
            f"gitops.{op}", args, guarded, sink=self._sink, summarize=summarize, retry=self._retry
        )

    def _locate(self, workload: Workload, ref: str) -> ManifestLocation:
        sha = self._resolve(ref)
        key = (sha, workload)
        found = self._located.get(key)
        if found is None:
            found = locate(workload, self._list_files(sha), self._read_many(sha))
            if len(self._located) >= _LOCATED_MAX:  # a long-running service sees many commits
                self._located.clear()
            self._located[key] = found
        return found

    def _find_open(self, fingerprint: str) -> PullRequest | None:
        for pull in self._open_pulls():
            if fingerprint_of(pull.body, pull.labels) == fingerprint:
                return pull
        return None

    def _refuse_duplicate(self, fingerprint: str) -> None:
        existing = self._find_open(fingerprint)
        if existing is not None:
            raise ToolFailure(f"pull request #{existing.number} is already open for incident {fingerprint}")

    # -- what each provider implements ----------------------------------------------------

    def _trace_arguments(self) -> Mapping[str, Any]:
        """What every trace event of this provider names besides the provider (e.g. the repository)."""
        return {}

    def _failure(self, exc: Exception, op: str) -> ToolFailure:
        """The `ToolFailure` one of `provider_errors` means for operation `op`."""
        return ToolFailure(str(exc))

    def _merge_refusal(self) -> str | None:
        """Why this provider must not merge at all (checked before the guard), or None."""
        return None

    @abstractmethod
    def _resolve(self, ref: str) -> str:
        """The commit sha a branch name (or sha) names; a `ToolFailure` when it names none."""

    @abstractmethod
    def _list_files(self, sha: str) -> list[str]:
        """Every file path in commit `sha`."""

    @abstractmethod
    def _read_many(self, sha: str) -> ReadMany:
        """A reader of many files at commit `sha` (paths that are not files are left out)."""

    @abstractmethod
    def _read(self, path: str, ref: str) -> str:
        """One file's text at `ref`."""

    @abstractmethod
    def _history(
        self, ref: str, paths: Sequence[str], since: datetime | None, until: datetime | None, limit: int
    ) -> list[CommitInfo]:
        """Commits on `ref` touching any of `paths` (all commits when empty) in the window, newest first."""

    @abstractmethod
    def _diff(self, sha: str) -> CommitDiff:
        """Commit `sha` and its per-file diffs against its first parent."""

    @abstractmethod
    def _create_ref(self, name: str, sha: str) -> None:
        """Create branch `name` at commit `sha`."""

    @abstractmethod
    def _read_for_update(self, path: str, branch: str) -> tuple[str, str]:
        """The text of `path` on `branch` and the version a commit of it must replace."""

    @abstractmethod
    def _commit_file(self, path: str, text: str, *, branch: str, message: str, version: str) -> str:
        """Commit `text` as `path` on top of `branch` (still at `version`); answers the new commit sha."""

    @abstractmethod
    def _write_revert(self, sha: str, base: str) -> tuple[str, str]:
        """A commit on top of `base` undoing `sha`; answers (`sha` in full, the new commit's sha)."""

    @abstractmethod
    def _open_pulls(self) -> Iterable[PullRequest]:
        """Every open pull request."""

    @abstractmethod
    def _get_pull(self, number: int) -> PullRequest:
        """Pull request `number`; a `ToolFailure` when there is none."""

    @abstractmethod
    def _create_pull(self, spec: PullRequestSpec, head: str, base: str) -> PullRequest:
        """Open a pull request from `head` into `base` with the body and labels `spec` renders to."""

    @abstractmethod
    def _comment(self, number: int, body: str) -> Comment:
        """Post `body` on issue or pull request `number`."""

    @abstractmethod
    def _all_pulls(self, limit: int) -> Iterable[PullRequest]:
        """Pull requests in any state (at least the `limit` newest)."""

    @abstractmethod
    def _pull_diff(self, pull: PullRequest) -> str:
        """The unified diff `pull` makes (made, once merged) to its base."""

    @abstractmethod
    def _merge(self, pull: PullRequest, by: str | None) -> PullRequest:
        """Merge open pull request `pull` into its base with a merge commit; answers it merged."""

    @abstractmethod
    def _close(self, pull: PullRequest, by: str | None) -> PullRequest:
        """Close open pull request `pull` unmerged; answers it closed."""
