"""The GitHub provider: the same `GitOpsRepo` operations through PyGithub (GitHub.com or Enterprise).

Transient failures (5xx, rate limits, connection errors) are retried by `call_tool` (PyGithub's
own retries are off so the back-off is ours and visible in the trace); 404 and validation
errors become clear, non-retried errors. Merging is refused unless `auto_merge` is on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from github import Auth, Github, GithubException, InputGitTreeElement
from github.Commit import Commit
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from github.PullRequest import PullRequest as GhPull

from tools.gitops.base import (
    Comment,
    CommitDiff,
    CommitInfo,
    FileDiff,
    ManifestCommit,
    ManifestLocation,
    PullRequest,
    PullRequestSpec,
    Workload,
    check_guard,
    write_request,
)
from tools.gitops.body import fingerprint_of, pr_labels, render_body
from tools.gitops.finder import ManifestNotFound, is_yaml, locate
from tools.gitops.manifests import ManifestError, patch_text, unified_diff
from tools.guard import PolicyGuard
from tools.result import RetryPolicy, ToolFailure, ToolResult, ToolStatus, TraceSink, call_tool, discard

T = TypeVar("T")
PROVIDER = "github"
_SHA = re.compile(r"[0-9a-f]{40}\Z")
DEFAULT_RETRY = RetryPolicy()


def _message(exc: GithubException) -> str:
    data = exc.data if isinstance(exc.data, dict) else {}
    detail = str(data.get("message") or exc.message or "")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        detail += ": " + "; ".join(
            str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors
        )
    return detail


def translate(exc: Exception, what: str) -> ToolFailure:
    """The `ToolFailure` a PyGithub or transport exception means for operation `what`."""
    if isinstance(exc, RateLimitExceededException):
        return ToolFailure(f"{what}: GitHub rate limit exceeded", transient=True)
    if isinstance(exc, BadCredentialsException):
        return ToolFailure(
            f"{what}: GitHub rejected the credentials ({exc.status})", status=ToolStatus.UNAVAILABLE
        )
    if isinstance(exc, UnknownObjectException):
        return ToolFailure(f"{what}: not found on GitHub")
    if isinstance(exc, GithubException):
        if exc.status >= 500:
            return ToolFailure(
                f"{what}: GitHub answered {exc.status} {_message(exc)}".rstrip(), transient=True
            )
        return ToolFailure(f"{what}: GitHub answered {exc.status}: {_message(exc)}")
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
        return ToolFailure(
            f"{what}: cannot reach GitHub ({type(exc).__name__})", ToolStatus.UNAVAILABLE, True
        )
    raise exc


def _state(pull: GhPull) -> str:
    if pull.merged:
        return "merged"
    return "closed" if pull.state == "closed" else "open"


def _record(pull: GhPull, labels: Sequence[str] | None = None) -> PullRequest:
    names = tuple(labels) if labels is not None else tuple(label.name for label in pull.labels)
    return PullRequest(
        number=pull.number,
        url=pull.html_url,
        title=pull.title,
        head=pull.head.ref,
        base=pull.base.ref,
        state=_state(pull),  # type: ignore[arg-type]
        labels=names,
        fingerprint=fingerprint_of(pull.body, names),
        body=pull.body or "",
        merge_sha=pull.merge_commit_sha if pull.merged else None,
    )


def _info(commit: Commit, files: bool) -> CommitInfo:
    git = commit.commit
    date = git.committer.date
    return CommitInfo(
        sha=commit.sha,
        author=f"{git.author.name} <{git.author.email}>",
        date=date if date.tzinfo else date.replace(tzinfo=UTC),
        message=git.message.strip(),
        files=tuple(f.filename for f in commit.files) if files else (),
    )


class GitHubRepo:
    """`GitOpsRepo` over one GitHub repository (`owner/name`)."""

    def __init__(
        self,
        repo: str,
        *,
        token: str | None,
        base_url: str = "https://api.github.com",
        base_branch: str = "main",
        auto_merge: bool = False,
        sink: TraceSink = discard,
        retry: RetryPolicy = DEFAULT_RETRY,
        timeout: int = 15,
        max_scan_files: int = 300,
        throttle: bool = True,
    ) -> None:
        if repo.count("/") != 1 or repo.startswith("/") or repo.endswith("/"):
            raise ValueError(f"GitHub repository must be 'owner/name', got {repo!r}")
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"GitHub base_url must be http(s), got {base_url!r}")
        self._gh = Github(
            auth=Auth.Token(token) if token else None,
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            per_page=100,
            retry=None,
            lazy=True,
            # GitHub asks clients to space out writes; tests against a local server turn this off.
            seconds_between_requests=0.25 if throttle else None,
            seconds_between_writes=1.0 if throttle else None,
        )
        self._repo = self._gh.get_repo(repo)
        self._name = repo
        self._base = base_branch
        self._auto_merge = auto_merge
        self._sink = sink
        self._retry = retry
        self._max_scan = max_scan_files

    @property
    def base_branch(self) -> str:
        """The branch pull requests target."""
        return self._base

    def _call(
        self, op: str, arguments: Mapping[str, Any], fn: Callable[[], T], summarize: Callable[[T], str]
    ) -> ToolResult[T]:
        def guarded() -> T:
            try:
                return fn()
            except (ManifestError, ManifestNotFound) as exc:
                raise ToolFailure(str(exc)) from None
            except (GithubException, requests.exceptions.RequestException) as exc:
                raise translate(exc, op) from None

        args = {"provider": PROVIDER, "repo": self._name, **arguments}
        return call_tool(
            f"gitops.{op}", args, guarded, sink=self._sink, summarize=summarize, retry=self._retry
        )

    def _head_sha(self, ref: str) -> str:
        if _SHA.match(ref):
            return ref
        try:
            return self._repo.get_git_ref(f"heads/{ref}").object.sha
        except UnknownObjectException:
            raise ToolFailure(f"no branch {ref!r} on GitHub") from None

    def _read_many(self, ref: str) -> Callable[[Sequence[str]], dict[str, str]]:
        def read(paths: Sequence[str]) -> dict[str, str]:
            if len(paths) > self._max_scan:
                raise ManifestNotFound(
                    f"{len(paths)} YAML files to scan (more than {self._max_scan}); give a path"
                )
            texts = {}
            for path in paths:
                content = self._repo.get_contents(path, ref=ref)
                if not isinstance(content, list):
                    texts[path] = content.decoded_content.decode("utf-8", errors="replace")
            return texts

        return read

    def _list_files(self, ref: str) -> list[str]:
        tree = self._repo.get_git_tree(self._head_sha(ref), recursive=True)
        return [e.path for e in tree.tree if e.type == "blob"]

    def _locate(self, workload: Workload, ref: str) -> ManifestLocation:
        sha = self._head_sha(ref)
        files = [p for p in self._list_files(sha) if is_yaml(p)]
        return locate(workload, files, self._read_many(sha))

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
        """Commits on `ref` touching `path` and/or the workload's manifest file, newest first."""
        ref = ref or self._base

        def run() -> list[CommitInfo]:
            if limit < 1:
                raise ToolFailure("limit must be at least 1")
            for when in (since, until):
                if when is not None and when.tzinfo is None:
                    raise ToolFailure("since/until must be timezone-aware datetimes")
            paths: list[str | None] = [path] if path else []
            if workload is not None:
                paths.append(self._locate(workload, ref).path)
            window: dict[str, Any] = {"sha": ref}
            if since is not None:
                window["since"] = since.astimezone(UTC)
            if until is not None:
                window["until"] = until.astimezone(UTC)
            seen: dict[str, CommitInfo] = {}
            for one in paths or [None]:
                query = {**window, "path": one} if one else window
                for commit in self._repo.get_commits(**query)[:limit]:
                    if commit.sha not in seen:
                        seen[commit.sha] = _info(self._repo.get_commit(commit.sha), files=True)
            return sorted(seen.values(), key=lambda c: c.date, reverse=True)[:limit]

        arguments = {"path": path, "workload": workload, "since": since, "until": until, "ref": ref}
        return self._call("recent_commits", arguments, run, lambda c: f"{len(c)} commits")

    def commit_diff(self, sha: str) -> ToolResult[CommitDiff]:
        """The diff of `sha` against its first parent, as GitHub reports it."""

        def run() -> CommitDiff:
            commit = self._repo.get_commit(sha)
            files = tuple(FileDiff(f.filename, f.status, f.patch or "") for f in commit.files)
            return CommitDiff(commit=_info(commit, files=True), files=files)

        return self._call("commit_diff", {"sha": sha}, run, lambda d: f"{len(d.files)} files changed")

    def read_file(self, path: str, ref: str | None = None) -> ToolResult[str]:
        """A file's text at `ref` (default: base branch)."""
        ref = ref or self._base

        def run() -> str:
            content = self._repo.get_contents(path, ref=ref)
            if isinstance(content, list):
                raise ToolFailure(f"{path} is a directory")
            return content.decoded_content.decode("utf-8", errors="replace")

        return self._call("read_file", {"path": path, "ref": ref}, run, lambda t: f"{len(t)} chars")

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
            sha = self._head_sha(from_ref)
            self._repo.create_git_ref(f"refs/heads/{name}", sha)
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
        """Strategic-merge `patch` into the manifest on `branch` and commit it (contents API)."""
        workload = Workload(location.kind, location.name, location.namespace)

        def run() -> ManifestCommit:
            check_guard(guard, write_request(action, workload, patch, path=location.path, branch=branch))
            if branch == self._base:
                raise ToolFailure(f"refusing to commit on the base branch {branch!r}; use a pull request")
            if not message.strip():
                raise ToolFailure("a commit needs a message")
            content = self._repo.get_contents(location.path, ref=branch)
            if isinstance(content, list):
                raise ToolFailure(f"{location.path} is a directory")
            before = content.decoded_content.decode("utf-8")
            after = patch_text(before, location.document_index, patch, location.path)
            if after == before:
                raise ToolFailure(f"the patch changes nothing in {location.path}")
            result = self._repo.update_file(location.path, message.strip(), after, content.sha, branch=branch)
            sha = result["commit"].sha
            return ManifestCommit(branch, sha, location, unified_diff(before, after, location.path))

        arguments = {"location": location, "patch": patch, "branch": branch, "action": action}
        return self._call("commit_manifest_patch", arguments, run, lambda c: f"{c.branch}@{c.sha[:12]}")

    def _find_open(self, fingerprint: str) -> PullRequest | None:
        for pull in self._repo.get_pulls(state="open"):
            record = _record(pull)
            if record.fingerprint == fingerprint:
                return record
        return None

    def _refuse_duplicate(self, fingerprint: str) -> None:
        existing = self._find_open(fingerprint)
        if existing is not None:
            raise ToolFailure(f"pull request #{existing.number} is already open for incident {fingerprint}")

    def _open(self, spec: PullRequestSpec, head: str, base: str) -> PullRequest:
        labels = pr_labels(spec)
        pull = self._repo.create_pull(base=base, head=head, title=spec.title.strip(), body=render_body(spec))
        pull.add_to_labels(*labels)
        return _record(pull, labels)

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
            check_guard(guard, write_request("open_pr", workload, head=head, base=base, title=spec.title))
            self._refuse_duplicate(spec.fingerprint)
            return self._open(spec, head, base)

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

    def get_pull_request(self, number: int) -> ToolResult[PullRequest]:
        """One pull request by number."""
        return self._call(
            "get_pull_request",
            {"number": number},
            lambda: _record(self._repo.get_pull(number)),
            lambda p: f"#{p.number} {p.state}",
        )

    def comment_on_issue(self, number: int, body: str) -> ToolResult[Comment]:
        """Comment on issue or pull request `number` (report-only mode posts diagnoses this way)."""

        def run() -> Comment:
            if not body.strip():
                raise ToolFailure("a comment needs a body")
            posted = self._repo.get_issue(number).create_comment(body)
            return Comment(id=posted.id, issue_number=number, body=posted.body, url=posted.html_url)

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
        """Open a pull request restoring, on top of the base branch, the files `sha` changed.

        GitHub has no revert endpoint: each file `sha` touched is set back to its first parent's
        version, and only when the base branch still has `sha`'s version (else it is refused).
        """
        base = base or self._base

        def run() -> PullRequest:
            check_guard(guard, write_request("revert", workload, commit=sha, base=base))
            self._refuse_duplicate(spec.fingerprint)
            commit = self._repo.get_commit(sha)
            if not commit.parents:
                raise ToolFailure(f"commit {sha} is the root commit; there is nothing to revert to")
            base_commit = self._repo.get_git_commit(self._head_sha(base))
            base_tree = self._repo.get_git_tree(base_commit.tree.sha, recursive=True)
            parent_tree = self._repo.get_git_tree(commit.parents[0].sha, recursive=True)
            now = {e.path: e for e in base_tree.tree if e.type == "blob"}
            before = {e.path: e for e in parent_tree.tree if e.type == "blob"}
            elements: list[InputGitTreeElement] = []
            for changed in commit.files:
                path, old_path = changed.filename, changed.previous_filename or changed.filename
                current = now.get(path)
                if changed.status != "removed" and (current is None or current.sha != changed.sha):
                    raise ToolFailure(
                        f"commit {sha[:12]} no longer reverts cleanly on {base}: {path} changed since"
                    )
                if changed.status == "removed" and current is not None:
                    raise ToolFailure(
                        f"commit {sha[:12]} no longer reverts cleanly on {base}: {path} re-added since"
                    )
                if changed.status in ("added", "renamed"):
                    elements.append(InputGitTreeElement(path, current.mode, "blob", sha=None))  # type: ignore[union-attr]
                if changed.status != "added":
                    old = before.get(old_path)
                    if old is None:
                        raise ToolFailure(f"{old_path} is missing from the parent of {sha[:12]}")
                    elements.append(InputGitTreeElement(old_path, old.mode, "blob", sha=old.sha))
            tree = self._repo.create_git_tree(elements, base_tree)
            title = commit.commit.message.splitlines()[0] if commit.commit.message else sha[:12]
            message = f'Revert "{title}"\n\nThis reverts commit {commit.sha}.\n'
            reverted = self._repo.create_git_commit(message, tree, [base_commit])
            branch = f"paramedic/revert-{commit.sha[:12]}-{spec.fingerprint[:8]}"
            self._repo.create_git_ref(f"refs/heads/{branch}", reverted.sha)
            return self._open(spec, branch, base)

        arguments = {"sha": sha, "base": base, "fingerprint": spec.fingerprint}
        return self._call("open_revert_pull_request", arguments, run, lambda p: f"#{p.number} {p.head}")

    def merge_pull_request(
        self, number: int, *, guard: PolicyGuard, workload: Workload
    ) -> ToolResult[PullRequest]:
        """Merge pull request `number` with a merge commit; only when auto-merge is enabled."""

        def run() -> PullRequest:
            if not self._auto_merge:
                raise ToolFailure(
                    "auto-merge is disabled for GitHub; a human merges", status=ToolStatus.DENIED
                )
            check_guard(guard, write_request("merge", workload, number=number))
            pull = self._repo.get_pull(number)
            state = _state(pull)
            if state != "open":
                raise ToolFailure(f"pull request #{number} is {state}, not open")
            status = self._repo.get_pull(number).merge(
                merge_method="merge",
                commit_title=f"Merge pull request #{number}: {pull.title}",
                sha=pull.head.sha,
            )
            if not status.merged:
                raise ToolFailure(f"pull request #{number} was not merged: {status.message}")
            return _record(self._repo.get_pull(number))

        return self._call("merge_pull_request", {"number": number}, run, lambda p: f"#{p.number} merged")
