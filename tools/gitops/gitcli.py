"""A thin runner for the `git` command line, and the plumbing the local provider builds on.

The plumbing never touches a user's checkout: blobs are read with `cat-file --batch`, trees are
built in a private index, commits are made with `commit-tree` and branches moved with
`update-ref` against their expected old value.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class GitError(RuntimeError):
    """A git command that failed; carries its exit code and stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


class Git:
    """Runs git in one repository with a fixed identity and no user or system config surprises."""

    def __init__(self, path: Path, *, author: tuple[str, str], timeout: float = 60.0) -> None:
        self.path = path
        self._timeout = timeout
        name, email = author
        self._env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_TERMINAL_PROMPT": "0",
            "LC_ALL": "C",
        }

    def run_bytes(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `git -C path ARGS`; raise GitError on a non-zero exit when `check`."""
        command = ["git", "-C", str(self.path), "-c", "core.quotePath=false", *args]
        proc = subprocess.run(
            command,
            input=stdin,
            capture_output=True,
            env={**self._env, **(env or {})},
            timeout=self._timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
        return proc

    def run(self, *args: str, stdin: str | None = None, env: Mapping[str, str] | None = None) -> str:
        """Run git and answer its stdout as text."""
        proc = self.run_bytes(*args, stdin=stdin.encode() if stdin is not None else None, env=env)
        return proc.stdout.decode()

    def ok(self, *args: str) -> bool:
        """True when the command exits 0 (for questions like `merge-base --is-ancestor`)."""
        return self.run_bytes(*args, check=False).returncode == 0

    def rev(self, ref: str) -> str | None:
        """The commit sha `ref` names, or None when it names no commit."""
        proc = self.run_bytes("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    # -- plumbing -------------------------------------------------------------------------

    def read_blobs(self, commit: str, paths: Sequence[str]) -> dict[str, str]:
        """The text of each of `paths` at `commit`; paths that are not files there are left out."""
        if not paths:
            return {}
        stdin = "".join(f"{commit}:{p}\n" for p in paths).encode()
        out = self.run_bytes("cat-file", "--batch", stdin=stdin).stdout
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

    def build_tree(self, base_commit: str, edit: Callable[[dict[str, str]], None]) -> str:
        """The tree `edit` makes of `base_commit` in a private index (the user's index is never used)."""
        fd, index = tempfile.mkstemp(prefix="paramedic-index-")
        os.close(fd)
        os.unlink(index)  # git wants to create it itself
        env = {"GIT_INDEX_FILE": index}
        try:
            self.run("read-tree", base_commit, env=env)
            edit(env)
            return self.run("write-tree", env=env).strip()
        finally:
            if os.path.exists(index):
                os.unlink(index)

    def commit_tree(self, tree: str, parents: Sequence[str], message: str) -> str:
        """A new commit of `tree` with `parents`; answers its sha (no branch moves)."""
        args = ["commit-tree", tree]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args, stdin=message).strip()

    def set_branch(self, branch: str, new: str, old: str) -> None:
        """Move `branch` from `old` to `new`; refused if someone moved it meanwhile."""
        self.run("update-ref", "-m", "paramedic", f"refs/heads/{branch}", new, old)

    def worktree_of(self, branch: str) -> Path | None:
        """The worktree that has `branch` checked out, if any."""
        current: Path | None = None
        for line in self.run("worktree", "list", "--porcelain").splitlines():
            if line.startswith("worktree "):
                current = Path(line[len("worktree ") :])
            elif line == f"branch refs/heads/{branch}" and current is not None:
                return current
            elif line == "bare":
                current = None
        return None
