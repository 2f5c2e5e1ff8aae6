"""The local Git provider: a plain repository on disk, driven through the `git` CLI.

Everything is done with plumbing (hash-object, a private index, commit-tree, update-ref with
the expected old value), so a user's checkout is never touched; pull requests are JSON records
in the git dir. Merging makes a no-ff merge commit on the base branch, which is what a GitOps
sync loop watching `main` of this repository deploys. When the base branch is checked out in a
clean worktree, that worktree is fast-forwarded to the merge too, so it does not look modified.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from tools.gitops.base import GitOpsRepo, revert_message
from tools.gitops.body import pr_labels, render_body
from tools.gitops.finder import ReadMany
from tools.gitops.gitcli import Git, GitError
from tools.gitops.local_pulls import PullStore
from tools.gitops.records import Comment, CommitDiff, CommitInfo, FileDiff, PullRequest, PullRequestSpec
from tools.result import NO_RETRY, ToolFailure, TraceSink, discard

DEFAULT_AUTHOR = ("Paramedic", "paramedic@localhost")
_MERGE_ATTEMPTS = 5  # merges into one base that race each other; each loser retries on the new head
_RECORD = "\x1e"
_FIELD = "\x00"
_STATUS = {"A": "added", "M": "modified", "D": "removed", "R": "renamed", "C": "copied", "T": "modified"}


class LocalGitRepo(GitOpsRepo):
    """`GitOpsRepo` over a local repository (non-bare or bare)."""

    provider = "local"
    provider_errors = (GitError,)

    def __init__(
        self,
        path: str | Path,
        *,
        base_branch: str = "main",
        sink: TraceSink = discard,
        author: tuple[str, str] = DEFAULT_AUTHOR,
    ) -> None:
        # Local git failures are not transient: retrying would only repeat them.
        super().__init__(base_branch=base_branch, sink=sink, retry=NO_RETRY)
        self._git = Git(Path(path), author=author)
        try:
            common = self._git.run("rev-parse", "--path-format=absolute", "--git-common-dir").strip()
        except (GitError, FileNotFoundError, NotADirectoryError) as exc:
            raise ValueError(f"{path} is not a git repository: {exc}") from None
        self._pulls = PullStore(Path(common) / "paramedic")

    def comments(self, number: int) -> list[Comment]:
        """The comments posted on pull request `number` (for tests and the UI)."""
        return self._pulls.comments(number)

    # -- files and commits ----------------------------------------------------------------

    def _resolve(self, ref: str) -> str:
        sha = self._git.rev(ref)
        if sha is None:
            raise ToolFailure(f"no branch or commit named {ref!r}")
        return sha

    def _branch_sha(self, branch: str) -> str:
        sha = self._git.rev(f"refs/heads/{branch}")
        if sha is None:
            raise ToolFailure(f"no branch {branch!r}")
        return sha

    def _list_files(self, sha: str) -> list[str]:
        out = self._git.run("ls-tree", "-r", "-z", "--name-only", sha)
        return [p for p in out.split("\0") if p]

    def _read_many(self, sha: str) -> ReadMany:
        return lambda paths: self._git.read_blobs(sha, paths)

    def _read(self, path: str, ref: str) -> str:
        text = self._read_many(self._resolve(ref))([path])
        if path not in text:
            raise ToolFailure(f"no file {path!r} at {ref}")
        return text[path]

    def _history(
        self, ref: str, paths: Sequence[str], since: datetime | None, until: datetime | None, limit: int
    ) -> list[CommitInfo]:
        args = [f"--max-count={limit}"]
        if since is not None:
            args.append(f"--since={since.astimezone(UTC).isoformat()}")
        if until is not None:
            args.append(f"--until={until.astimezone(UTC).isoformat()}")
        return self._log(*args, self._resolve(ref), "--", *paths)

    def _diff(self, sha: str) -> CommitDiff:
        commit = self._resolve(sha)
        parent = self._git.rev(f"{commit}^1")
        trees = [parent, commit] if parent else ["--root", commit]  # a root commit diffs against nothing
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

    # -- writing commits ------------------------------------------------------------------

    def _create_ref(self, name: str, sha: str) -> None:
        try:
            self._git.run("check-ref-format", "--branch", name)
        except GitError:
            raise ToolFailure(f"{name!r} is not a valid branch name") from None
        if self._git.rev(f"refs/heads/{name}") is not None:
            raise ToolFailure(f"branch {name!r} already exists")
        self._git.run("update-ref", "-m", "paramedic: create branch", f"refs/heads/{name}", sha, "")

    def _read_for_update(self, path: str, branch: str) -> tuple[str, str]:
        old = self._branch_sha(branch)
        before = self._read_many(old)([path]).get(path)
        if before is None:
            raise ToolFailure(f"no file {path!r} on {branch}")
        return before, old

    def _commit_file(self, path: str, text: str, *, branch: str, message: str, version: str) -> str:
        blob = self._git.run("hash-object", "-w", "--stdin", stdin=text).strip()
        mode = self._git.run("ls-tree", version, "--", path).split()[0]

        def edit(env: dict[str, str]) -> None:
            self._git.run("update-index", "--cacheinfo", f"{mode},{blob},{path}", env=env)

        tree = self._git.build_tree(version, edit)
        new = self._git.commit_tree(tree, [version], message + "\n")
        self._git.set_branch(branch, new, version)
        return new

    def _write_revert(self, sha: str, base: str) -> tuple[str, str]:
        commit = self._resolve(sha)
        base_sha = self._branch_sha(base)
        if not self._git.ok("merge-base", "--is-ancestor", commit, base_sha):
            raise ToolFailure(f"commit {sha} is not on {base}")
        parent = self._git.rev(f"{commit}^1")
        if parent is None:
            raise ToolFailure(f"commit {sha} is the root commit; there is nothing to revert to")
        reverse = self._git.run_bytes("diff-tree", "-p", "--binary", "--full-index", parent, commit).stdout

        def edit(env: dict[str, str]) -> None:
            proc = self._git.run_bytes("apply", "--cached", "-R", "-", stdin=reverse, env=env, check=False)
            if proc.returncode != 0:
                why = proc.stderr.decode(errors="replace").strip()
                raise ToolFailure(f"commit {sha[:12]} no longer reverts cleanly on {base}: {why}")

        tree = self._git.build_tree(base_sha, edit)
        title = self._commit_info(commit).title or commit[:12]
        return commit, self._git.commit_tree(tree, [base_sha], revert_message(title, commit))

    # -- pull requests --------------------------------------------------------------------

    def _open_pulls(self) -> list[PullRequest]:
        return [pull for pull in self._pulls.all() if pull.state == "open"]

    def _all_pulls(self, limit: int) -> list[PullRequest]:
        return self._pulls.all()

    def _pull_diff(self, pull: PullRequest) -> str:
        head = self._git.rev(f"refs/heads/{pull.head}")
        if pull.state == "merged" and pull.merge_sha:
            # What the merge brought in: its second parent (the head as merged) against its first.
            return self._git.run("diff", f"{pull.merge_sha}^1", pull.merge_sha)
        if head is None:
            raise ToolFailure(f"branch {pull.head!r} of pull request #{pull.number} no longer exists")
        base = self._branch_sha(pull.base)
        return self._git.run("diff", f"{base}...{head}")

    def _get_pull(self, number: int) -> PullRequest:
        pull = self._pulls.get(number)
        if pull is None:
            raise ToolFailure(f"no pull request #{number}")
        return pull

    def _create_pull(self, spec: PullRequestSpec, head: str, base: str) -> PullRequest:
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

    def _comment(self, number: int, body: str) -> Comment:
        # A local repository has no issues: only its pull requests take comments.
        if self._pulls.get(number) is None:
            raise ToolFailure(f"no issue or pull request #{number}")
        return self._pulls.add_comment(number, body)

    def _close(self, pull: PullRequest, by: str | None) -> PullRequest:
        done = replace(pull, state="closed", closed_by=by)
        self._pulls.update(done)
        return done

    def _merge(self, pull: PullRequest, by: str | None) -> PullRequest:
        # Two merges into one base at once (two runs' pull requests, a human and a run): the loser
        # of update-ref's compare-and-swap merges again onto the base the winner left, as GitHub
        # would; only a real conflict with that base fails the merge.
        for attempt in range(_MERGE_ATTEMPTS):
            base_sha = self._branch_sha(pull.base)
            merged = self._merge_commit(pull, base_sha)
            try:
                self._advance(pull.base, merged, base_sha)
            except GitError:
                # the base moved under us, or another writer held its lock: merge onto its head again
                if attempt + 1 < _MERGE_ATTEMPTS:
                    time.sleep(0.05 * (attempt + 1))
                    continue
                raise
            done = replace(pull, state="merged", merge_sha=merged, merged_by=by)
            self._pulls.update(done)
            return done
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _merge_commit(self, pull: PullRequest, base_sha: str) -> str:
        """The merge commit of the pull request's head onto `base_sha` (no branch moves)."""
        number = pull.number
        head_sha = self._branch_sha(pull.head)
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
        return self._git.commit_tree(tree, [base_sha, head_sha], message)

    def _advance(self, branch: str, new: str, old: str) -> None:
        """Move `branch` to `new`; a clean worktree that has it checked out follows along."""
        worktree = self._git.worktree_of(branch)
        if worktree is not None:
            tree = Git(worktree, author=DEFAULT_AUTHOR)
            clean = not tree.run("status", "--porcelain", "--untracked-files=no").strip()
            if clean and tree.rev("HEAD") == old and tree.ok("merge", "--ff-only", "--quiet", new):
                return
        self._git.set_branch(branch, new, old)
