"""The local Git provider: a plain repository on disk, driven through the `git` CLI.

Everything is done with plumbing (hash-object, a private index, commit-tree, update-ref with
the expected old value), so a user's checkout is never touched; pull requests are JSON records
in the git dir. Merging makes a no-ff merge commit on the base branch, which is what a GitOps
sync loop watching `main` of this repository deploys. When the base branch is checked out in a
clean worktree, that worktree is fast-forwarded to the merge too, so it does not look modified.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

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
from tools.gitops.finder import ManifestNotFound, locate
from tools.gitops.gitcli import Git, GitError
from tools.gitops.local_pulls import PullStore
from tools.gitops.manifests import ManifestError, patch_text, unified_diff
from tools.guard import PolicyGuard
from tools.result import NO_RETRY, ToolFailure, ToolResult, TraceSink, call_tool, discard

T = TypeVar("T")
PROVIDER = "local"
DEFAULT_AUTHOR = ("Paramedic", "paramedic@localhost")
_RECORD = "\x1e"
_FIELD = "\x00"
_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "modified"}


class LocalGitRepo:
    """`GitOpsRepo` over a local repository (non-bare or bare)."""

    def __init__(
        self,
        path: str | Path,
        *,
        base_branch: str = "main",
        sink: TraceSink = discard,
        author: tuple[str, str] = DEFAULT_AUTHOR,
    ) -> None:
        self._git = Git(Path(path), author=author)
        try:
            common = self._git.run("rev-parse", "--path-format=absolute", "--git-common-dir").strip()
        except (GitError, FileNotFoundError, NotADirectoryError) as exc:
            raise ValueError(f"{path} is not a git repository: {exc}") from None
        self._pulls = PullStore(Path(common) / "paramedic")
        self._base = base_branch
        self._sink = sink

    @property
    def base_branch(self) -> str:
        """The branch pull requests target and the GitOps sync deploys from."""
        return self._base

    @property
    def path(self) -> Path:
        """The repository's directory."""
        return self._git.path

    # -- plumbing -------------------------------------------------------------------------

    def _call(
        self, op: str, arguments: Mapping[str, Any], fn: Callable[[], T], summarize: Callable[[T], str]
    ) -> ToolResult[T]:
        def guarded() -> T:
            try:
                return fn()
            except GitError as exc:
                raise ToolFailure(str(exc)) from None
            except (ManifestError, ManifestNotFound) as exc:
                raise ToolFailure(str(exc)) from None

        args = {"provider": PROVIDER, **arguments}
        # Local git failures are not transient: retrying would only repeat them.
        return call_tool(f"gitops.{op}", args, guarded, sink=self._sink, summarize=summarize, retry=NO_RETRY)

    def _commit_of(self, ref: str) -> str:
        sha = self._git.rev(ref)
        if sha is None:
            raise ToolFailure(f"no branch or commit named {ref!r}")
        return sha

    def _branch_sha(self, branch: str) -> str:
        sha = self._git.rev(f"refs/heads/{branch}")
        if sha is None:
            raise ToolFailure(f"no branch {branch!r}")
        return sha

    def _list_files(self, ref: str) -> list[str]:
        out = self._git.run("ls-tree", "-r", "-z", "--name-only", self._commit_of(ref))
        return [p for p in out.split("\0") if p]

    def _read_many(self, sha: str) -> Callable[[Sequence[str]], dict[str, str]]:
        def read(paths: Sequence[str]) -> dict[str, str]:
            if not paths:
                return {}
            stdin = "".join(f"{sha}:{p}\n" for p in paths).encode()
            out = self._git.run_bytes("cat-file", "--batch", stdin=stdin).stdout
            texts: dict[str, str] = {}
            position = 0
            for path in paths:
                header_end = out.index(b"\n", position)
                header = out[position:header_end].split()
                position = header_end + 1
                if len(header) < 3 or header[1] != b"blob":
                    continue
                size = int(header[2])
                texts[path] = out[position : position + size].decode("utf-8", errors="replace")
                position += size + 1
            return texts

        return read

    def _commit_tree(self, tree: str, parents: Sequence[str], message: str) -> str:
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self._git.run(*args, stdin=message).strip()

    def _with_index(self, base_commit: str, edit: Callable[[dict[str, str]], None]) -> str:
        """Build a tree from `base_commit` through a private index (the user's index is never used)."""
        fd, index = tempfile.mkstemp(prefix="paramedic-index-")
        os.close(fd)
        os.unlink(index)  # git wants to create it itself
        env = {"GIT_INDEX_FILE": index}
        try:
            self._git.run("read-tree", base_commit, env=env)
            edit(env)
            return self._git.run("write-tree", env=env).strip()
        finally:
            if os.path.exists(index):
                os.unlink(index)

    def _set_branch(self, branch: str, new: str, old: str) -> None:
        # update-ref with the old value refuses if someone moved the branch meanwhile.
        self._git.run("update-ref", "-m", "paramedic", f"refs/heads/{branch}", new, old)

    def _create_branch_ref(self, name: str, sha: str) -> None:
        try:
            self._git.run("check-ref-format", "--branch", name)
        except GitError:
            raise ToolFailure(f"{name!r} is not a valid branch name") from None
        if self._git.rev(f"refs/heads/{name}") is not None:
            raise ToolFailure(f"branch {name!r} already exists")
        self._git.run("update-ref", "-m", "paramedic: create branch", f"refs/heads/{name}", sha, "")

    def _commit_info(self, sha: str) -> CommitInfo:
        infos = self._log(sha, "-1")
        if not infos:
            raise ToolFailure(f"no commit {sha!r}")
        return infos[0]

    def _log(self, *args: str) -> list[CommitInfo]:
        fmt = "--format=%x1e%H%x00%an <%ae>%x00%cI%x00%B%x00"
        out = self._git.run("log", fmt, "--name-only", *args)
        infos = []
        for record in out.split(_RECORD)[1:]:
            sha, author, date, message, files = record.split(_FIELD, 4)
            infos.append(
                CommitInfo(
                    sha=sha,
                    author=author,
                    date=datetime.fromisoformat(date),
                    message=message.strip(),
                    files=tuple(f for f in files.splitlines() if f.strip()),
                )
            )
        return infos

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
            head = self._commit_of(ref)
            paths = [path] if path else []
            if workload is not None:
                paths.append(locate(workload, self._list_files(head), self._read_many(head)).path)
            args = [f"--max-count={limit}"]
            if since is not None:
                args.append(f"--since={since.astimezone(UTC).isoformat()}")
            if until is not None:
                args.append(f"--until={until.astimezone(UTC).isoformat()}")
            return self._log(*args, head, "--", *paths)

        arguments = {"path": path, "workload": workload, "since": since, "until": until, "ref": ref}
        return self._call("recent_commits", arguments, run, lambda c: f"{len(c)} commits")

    def commit_diff(self, sha: str) -> ToolResult[CommitDiff]:
        """The diff of `sha` against its first parent (against nothing for a root commit)."""

        def run() -> CommitDiff:
            commit = self._commit_of(sha)
            parent = self._git.rev(f"{commit}^1")
            trees = [parent, commit] if parent else ["--root", commit]
            status = self._git.run("diff-tree", "--no-commit-id", "-r", "-z", "--name-status", "-M", *trees)
            fields = [f for f in status.split("\0") if f]
            files: list[FileDiff] = []
            i = 0
            while i < len(fields):
                code = fields[i]
                if code[0] in "RC":
                    old, new = fields[i + 1], fields[i + 2]
                    i += 3
                else:
                    old = new = fields[i + 1]
                    i += 2
                patch = self._git.run("diff-tree", "-p", "-M", *trees, "--", *{old, new})
                hunks = patch[patch.find("@@") :] if "@@" in patch else ""
                files.append(FileDiff(path=new, status=_STATUS.get(code[0], "modified"), patch=hunks))
            return CommitDiff(commit=self._commit_info(commit), files=tuple(files))

        return self._call("commit_diff", {"sha": sha}, run, lambda d: f"{len(d.files)} files changed")

    def read_file(self, path: str, ref: str | None = None) -> ToolResult[str]:
        """A file's text at `ref` (default: base branch)."""
        ref = ref or self._base

        def run() -> str:
            head = self._commit_of(ref)
            text = self._read_many(head)([path])
            if path not in text:
                raise ToolFailure(f"no file {path!r} at {ref}")
            return text[path]

        return self._call("read_file", {"path": path, "ref": ref}, run, lambda t: f"{len(t)} chars")

    def list_files(self, ref: str | None = None) -> ToolResult[list[str]]:
        """Every file path at `ref` (default: base branch)."""
        ref = ref or self._base
        return self._call(
            "list_files", {"ref": ref}, lambda: self._list_files(ref), lambda f: f"{len(f)} files"
        )

    def find_manifest(self, workload: Workload, ref: str | None = None) -> ToolResult[ManifestLocation]:
        """The file and document that define the workload at `ref` (default: base branch)."""
        ref = ref or self._base

        def run() -> ManifestLocation:
            head = self._commit_of(ref)
            return locate(workload, self._list_files(head), self._read_many(head))

        return self._call(
            "find_manifest",
            {"workload": workload, "ref": ref},
            run,
            lambda loc: f"{loc.path}#{loc.document_index}",
        )

    # -- branches and commits -------------------------------------------------------------

    def create_branch(self, name: str, from_ref: str | None = None) -> ToolResult[str]:
        """Create branch `name` at `from_ref` (default: base branch); answers its commit sha."""
        from_ref = from_ref or self._base

        def run() -> str:
            sha = self._commit_of(from_ref)
            self._create_branch_ref(name, sha)
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

        `action` is what the guard judges (use `rollback` for an image change that rolls back).
        """
        workload = Workload(location.kind, location.name, location.namespace)

        def run() -> ManifestCommit:
            check_guard(guard, write_request(action, workload, patch, path=location.path, branch=branch))
            if branch == self._base:
                raise ToolFailure(f"refusing to commit on the base branch {branch!r}; use a pull request")
            if not message.strip():
                raise ToolFailure("a commit needs a message")
            old = self._branch_sha(branch)
            before = self._read_many(old)([location.path]).get(location.path)
            if before is None:
                raise ToolFailure(f"no file {location.path!r} on {branch}")
            after = patch_text(before, location.document_index, patch, location.path)
            if after == before:
                raise ToolFailure(f"the patch changes nothing in {location.path}")
            blob = self._git.run("hash-object", "-w", "--stdin", stdin=after).strip()
            mode = self._git.run("ls-tree", old, "--", location.path).split()[0]

            def edit(env: dict[str, str]) -> None:
                self._git.run("update-index", "--cacheinfo", f"{mode},{blob},{location.path}", env=env)

            tree = self._with_index(old, edit)
            new = self._commit_tree(tree, [old], message.strip() + "\n")
            self._set_branch(branch, new, old)
            return ManifestCommit(branch, new, location, unified_diff(before, after, location.path))

        arguments = {"location": location, "patch": patch, "branch": branch, "action": action}
        return self._call("commit_manifest_patch", arguments, run, lambda c: f"{c.branch}@{c.sha[:12]}")

    # -- pull requests --------------------------------------------------------------------

    def _open_pull(self, spec: PullRequestSpec, head: str, base: str) -> PullRequest:
        if head == base:
            raise ToolFailure("head and base are the same branch")
        head_sha, base_sha = self._branch_sha(head), self._branch_sha(base)
        if self._git.ok("merge-base", "--is-ancestor", head_sha, base_sha):
            raise ToolFailure(f"{head} has no commits that {base} lacks")
        pull = PullRequest(
            number=0,
            url=f"file://{self._pulls_url()}/{{number}}.json",
            title=spec.title.strip(),
            head=head,
            base=base,
            state="open",
            labels=pr_labels(spec),
            fingerprint=spec.fingerprint,
            body=render_body(spec),
        )
        return self._pulls.create(pull)

    def _pulls_url(self) -> str:
        common = self._git.run("rev-parse", "--path-format=absolute", "--git-common-dir").strip()
        return f"{common}/paramedic/pulls"

    def _refuse_duplicate(self, fingerprint: str) -> None:
        existing = self._find_open(fingerprint)
        if existing is not None:
            raise ToolFailure(f"pull request #{existing.number} is already open for incident {fingerprint}")

    def _find_open(self, fingerprint: str) -> PullRequest | None:
        for pull in self._pulls.all():
            if pull.state == "open" and fingerprint_of(pull.body, pull.labels) == fingerprint:
                return pull
        return None

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
            return self._open_pull(spec, head, base)

        arguments = {"title": spec.title, "head": head, "base": base, "fingerprint": spec.fingerprint}
        return self._call("open_pull_request", arguments, run, lambda p: f"#{p.number} {p.head} -> {p.base}")

    def find_open_pull_request(self, fingerprint: str) -> ToolResult[PullRequest | None]:
        """The open pull request carrying this incident fingerprint, if any."""
        return self._call(
            "find_open_pull_request",
            {"fingerprint": fingerprint},
            lambda: self._find_open(fingerprint),
            lambda p: f"#{p.number}" if p else "none open",
        )

    def get_pull_request(self, number: int) -> ToolResult[PullRequest]:
        """One pull request record by number."""

        def run() -> PullRequest:
            pull = self._pulls.get(number)
            if pull is None:
                raise ToolFailure(f"no pull request #{number}")
            return pull

        return self._call("get_pull_request", {"number": number}, run, lambda p: f"#{p.number} {p.state}")

    def comment_on_issue(self, number: int, body: str) -> ToolResult[Comment]:
        """Comment on pull request `number` (a local repository has no other issues)."""

        def run() -> Comment:
            if not body.strip():
                raise ToolFailure("a comment needs a body")
            if self._pulls.get(number) is None:
                raise ToolFailure(f"no issue or pull request #{number}")
            return self._pulls.add_comment(number, body)

        return self._call("comment_on_issue", {"number": number}, run, lambda c: f"comment {c.id}")

    def comments(self, number: int) -> list[Comment]:
        """The comments posted on pull request `number` (for tests and the UI)."""
        return self._pulls.comments(number)

    def open_revert_pull_request(
        self,
        sha: str,
        spec: PullRequestSpec,
        *,
        guard: PolicyGuard,
        workload: Workload,
        base: str | None = None,
    ) -> ToolResult[PullRequest]:
        """Open a pull request reverting `sha` (against its first parent) on top of the base branch."""
        base = base or self._base

        def run() -> PullRequest:
            check_guard(guard, write_request("revert", workload, commit=sha, base=base))
            self._refuse_duplicate(spec.fingerprint)
            commit = self._commit_of(sha)
            base_sha = self._branch_sha(base)
            if not self._git.ok("merge-base", "--is-ancestor", commit, base_sha):
                raise ToolFailure(f"commit {sha} is not on {base}")
            parent = self._git.rev(f"{commit}^1")
            if parent is None:
                raise ToolFailure(f"commit {sha} is the root commit; there is nothing to revert to")
            reverse = self._git.run_bytes(
                "diff-tree", "-p", "--binary", "--full-index", parent, commit
            ).stdout

            def edit(env: dict[str, str]) -> None:
                proc = self._git.run_bytes(
                    "apply", "--cached", "-R", "-", stdin=reverse, env=env, check=False
                )
                if proc.returncode != 0:
                    why = proc.stderr.decode(errors="replace").strip()
                    raise ToolFailure(f"commit {sha[:12]} no longer reverts cleanly on {base}: {why}")

            tree = self._with_index(base_sha, edit)
            info = self._commit_info(commit)
            message = f'Revert "{info.title}"\n\nThis reverts commit {commit}.\n'
            reverted = self._commit_tree(tree, [base_sha], message)
            branch = f"paramedic/revert-{commit[:12]}-{spec.fingerprint[:8]}"
            self._create_branch_ref(branch, reverted)
            return self._open_pull(spec, branch, base)

        arguments = {"sha": sha, "base": base, "fingerprint": spec.fingerprint}
        return self._call("open_revert_pull_request", arguments, run, lambda p: f"#{p.number} {p.head}")

    def merge_pull_request(
        self, number: int, *, guard: PolicyGuard, workload: Workload
    ) -> ToolResult[PullRequest]:
        """Merge pull request `number` into its base branch with a no-ff merge commit."""

        def run() -> PullRequest:
            check_guard(guard, write_request("merge", workload, number=number))
            pull = self._pulls.get(number)
            if pull is None:
                raise ToolFailure(f"no pull request #{number}")
            if pull.state != "open":
                raise ToolFailure(f"pull request #{number} is {pull.state}, not open")
            head_sha, base_sha = self._branch_sha(pull.head), self._branch_sha(pull.base)
            if self._git.ok("merge-base", "--is-ancestor", head_sha, base_sha):
                raise ToolFailure(f"{pull.head} is already merged into {pull.base}")
            proc = self._git.run_bytes(
                "merge-tree", "--write-tree", "--name-only", base_sha, head_sha, check=False
            )
            if proc.returncode != 0:
                lines = proc.stdout.decode(errors="replace").splitlines()
                conflicts = ", ".join(line for line in lines[1:] if line and " " not in line) or "see git"
                raise ToolFailure(f"pull request #{number} conflicts with {pull.base}: {conflicts}")
            tree = proc.stdout.decode().splitlines()[0].strip()
            message = f"Merge pull request #{number} from {pull.head}\n\n{pull.title}\n"
            merged = self._commit_tree(tree, [base_sha, head_sha], message)
            self._advance(pull.base, merged, base_sha)
            done = PullRequest(**{**pull.__dict__, "state": "merged", "merge_sha": merged})
            self._pulls.update(done)
            return done

        return self._call("merge_pull_request", {"number": number}, run, lambda p: f"#{p.number} merged")

    def _advance(self, branch: str, new: str, old: str) -> None:
        """Move `branch` to `new`; a clean worktree that has it checked out follows along."""
        worktree = self._worktree_of(branch)
        if worktree is not None:
            tree = Git(worktree, author=DEFAULT_AUTHOR)
            clean = not tree.run("status", "--porcelain", "--untracked-files=no").strip()
            if clean and tree.rev("HEAD") == old and tree.ok("merge", "--ff-only", "--quiet", new):
                return
        self._set_branch(branch, new, old)

    def _worktree_of(self, branch: str) -> Path | None:
        current: Path | None = None
        for line in self._git.run("worktree", "list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                current = Path(line[len("worktree ") :])
            elif line == f"branch refs/heads/{branch}" and current is not None:
                return current
            elif line == "bare":
                current = None
        return None
