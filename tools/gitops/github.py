"""The GitHub provider: the same `GitOpsRepo` operations through PyGithub (GitHub.com or Enterprise).

Transient failures (5xx, rate limits, connection errors) are retried by `call_tool` (PyGithub's
own retries are off so the back-off is ours and visible in the trace); 404 and validation
errors become clear, non-retried errors. Merging is refused unless `auto_merge` is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

import requests
from github import Auth, Github, GithubException, InputGitTreeElement
from github.Commit import Commit
from github.ContentFile import ContentFile
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException
from github.PullRequest import PullRequest as GhPull

from tools.gitops.base import GitOpsRepo, revert_message
from tools.gitops.body import fingerprint_of, pr_labels, render_body
from tools.gitops.finder import ManifestNotFound, ReadMany
from tools.gitops.records import (
    Comment,
    CommitDiff,
    CommitInfo,
    FileDiff,
    PullRequest,
    PullRequestSpec,
    PullState,
)
from tools.result import RetryPolicy, ToolFailure, ToolStatus, TraceSink, discard

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


def _state(pull: GhPull) -> PullState:
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
        state=_state(pull),
        labels=names,
        fingerprint=fingerprint_of(pull.body, names),
        body=pull.body or "",
        merge_sha=pull.merge_commit_sha if pull.merged else None,
        merged_by=pull.merged_by.login if pull.merged and pull.merged_by is not None else None,
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


class GitHubRepo(GitOpsRepo):
    """`GitOpsRepo` over one GitHub repository (`owner/name`)."""

    provider = "github"
    provider_errors = (GithubException, requests.exceptions.RequestException)

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
        super().__init__(base_branch=base_branch, sink=sink, retry=retry)
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
        self._auto_merge = auto_merge
        self._max_scan = max_scan_files

    def _trace_arguments(self) -> dict[str, Any]:
        return {"repo": self._name}

    def _failure(self, exc: Exception, op: str) -> ToolFailure:
        return translate(exc, op)

    def _merge_refusal(self) -> str | None:
        return None if self._auto_merge else "auto-merge is disabled for GitHub; a human merges"

    # -- files and commits ----------------------------------------------------------------

    def _resolve(self, ref: str) -> str:
        if _SHA.match(ref):
            return ref
        try:
            return self._repo.get_git_ref(f"heads/{ref}").object.sha
        except UnknownObjectException:
            raise ToolFailure(f"no branch {ref!r} on GitHub") from None

    def _list_files(self, sha: str) -> list[str]:
        tree = self._repo.get_git_tree(sha, recursive=True)
        return [e.path for e in tree.tree if e.type == "blob"]

    def _read_many(self, sha: str) -> ReadMany:
        def read(paths: Sequence[str]) -> dict[str, str]:
            if len(paths) > self._max_scan:
                raise ManifestNotFound(
                    f"{len(paths)} YAML files to scan (more than {self._max_scan}); give a path"
                )
            texts = {}
            for path in paths:
                content = self._repo.get_contents(path, ref=sha)
                if not isinstance(content, list):
                    texts[path] = content.decoded_content.decode("utf-8", errors="replace")
            return texts

        return read

    def _file(self, path: str, ref: str) -> ContentFile:
        content = self._repo.get_contents(path, ref=ref)
        if isinstance(content, list):
            raise ToolFailure(f"{path} is a directory")
        return content

    def _read(self, path: str, ref: str) -> str:
        return self._file(path, ref).decoded_content.decode("utf-8", errors="replace")

    def _history(
        self, ref: str, paths: Sequence[str], since: datetime | None, until: datetime | None, limit: int
    ) -> list[CommitInfo]:
        window: dict[str, Any] = {"sha": ref}
        if since is not None:
            window["since"] = since.astimezone(UTC)
        if until is not None:
            window["until"] = until.astimezone(UTC)
        seen: dict[str, CommitInfo] = {}
        scopes: Sequence[str | None] = paths or [None]  # None: the whole repository
        for one in scopes:
            query = {**window, "path": one} if one else window
            for commit in islice(self._repo.get_commits(**query), limit):  # pages fetched lazily
                if commit.sha not in seen:
                    seen[commit.sha] = _info(self._repo.get_commit(commit.sha), files=True)
        return sorted(seen.values(), key=lambda c: c.date, reverse=True)[:limit]

    def _diff(self, sha: str) -> CommitDiff:
        commit = self._repo.get_commit(sha)
        files = tuple(FileDiff(f.filename, f.status, f.patch or "") for f in commit.files)
        return CommitDiff(commit=_info(commit, files=True), files=files)

    def _create_ref(self, name: str, sha: str) -> None:
        self._repo.create_git_ref(f"refs/heads/{name}", sha)

    def _read_for_update(self, path: str, branch: str) -> tuple[str, str]:
        content = self._file(path, branch)
        return content.decoded_content.decode("utf-8"), content.sha  # strict: never patch mangled text

    def _commit_file(self, path: str, text: str, *, branch: str, message: str, version: str) -> str:
        # The contents API refuses the update unless the file is still at blob `version`.
        return self._repo.update_file(path, message, text, version, branch=branch)["commit"].sha

    def _write_revert(self, sha: str, base: str) -> tuple[str, str]:
        """GitHub has no revert endpoint: each file `sha` touched is set back to its first parent's
        version, and only when the base branch still has `sha`'s version (else it is refused)."""
        commit = self._repo.get_commit(sha)
        if not commit.parents:
            raise ToolFailure(f"commit {sha} is the root commit; there is nothing to revert to")
        base_commit = self._repo.get_git_commit(self._resolve(base))
        base_tree = self._repo.get_git_tree(base_commit.tree.sha, recursive=True)
        parent_tree = self._repo.get_git_tree(commit.parents[0].sha, recursive=True)
        now = {e.path: e for e in base_tree.tree if e.type == "blob"}
        before = {e.path: e for e in parent_tree.tree if e.type == "blob"}
        elements: list[InputGitTreeElement] = []
        unclean = f"commit {sha[:12]} no longer reverts cleanly on {base}"
        for changed in commit.files:
            path, old_path = changed.filename, changed.previous_filename or changed.filename
            current = now.get(path)
            if changed.status == "removed":
                if current is not None:
                    raise ToolFailure(f"{unclean}: {path} re-added since")
            elif current is None or current.sha != changed.sha:
                raise ToolFailure(f"{unclean}: {path} changed since")
            elif changed.status in ("added", "renamed"):
                elements.append(InputGitTreeElement(path, current.mode, "blob", sha=None))
            if changed.status != "added":
                old = before.get(old_path)
                if old is None:
                    raise ToolFailure(f"{old_path} is missing from the parent of {sha[:12]}")
                elements.append(InputGitTreeElement(old_path, old.mode, "blob", sha=old.sha))
        tree = self._repo.create_git_tree(elements, base_tree)
        title = commit.commit.message.splitlines()[0] if commit.commit.message else sha[:12]
        reverted = self._repo.create_git_commit(revert_message(title, commit.sha), tree, [base_commit])
        return commit.sha, reverted.sha

    # -- pull requests --------------------------------------------------------------------

    def _open_pulls(self) -> Iterator[PullRequest]:
        return (_record(pull) for pull in self._repo.get_pulls(state="open"))

    def _get_pull(self, number: int) -> PullRequest:
        return _record(self._repo.get_pull(number))

    def _all_pulls(self, limit: int) -> list[PullRequest]:
        pulls = self._repo.get_pulls(state="all", sort="created", direction="desc")
        newest: list[GhPull] = list(pulls[:limit])
        return [_record(pull) for pull in newest]

    def _pull_diff(self, pull: PullRequest) -> str:
        files = self._repo.get_pull(pull.number).get_files()
        return "".join(f"--- a/{f.filename}\n+++ b/{f.filename}\n{(f.patch or '').rstrip()}\n" for f in files)

    def _close(self, pull: PullRequest, by: str | None) -> PullRequest:
        live = self._repo.get_pull(pull.number)
        live.edit(state="closed")
        closed = _record(self._repo.get_pull(pull.number))
        return PullRequest(**{**closed.__dict__, "closed_by": by})

    def _create_pull(self, spec: PullRequestSpec, head: str, base: str) -> PullRequest:
        labels = pr_labels(spec)
        pull = self._repo.create_pull(base=base, head=head, title=spec.title.strip(), body=render_body(spec))
        pull.add_to_labels(*labels)
        return _record(pull, labels)

    def _comment(self, number: int, body: str) -> Comment:
        posted = self._repo.get_issue(number).create_comment(body)
        return Comment(id=posted.id, issue_number=number, body=posted.body, url=posted.html_url)

    def _merge(self, pull: PullRequest, by: str | None) -> PullRequest:
        number = pull.number
        live = self._repo.get_pull(number)
        status = live.merge(
            merge_method="merge",
            commit_title=f"Merge pull request #{number}: {pull.title}",
            sha=live.head.sha,
        )
        if not status.merged:
            raise ToolFailure(f"pull request #{number} was not merged: {status.message}")
        return _record(self._repo.get_pull(number))
