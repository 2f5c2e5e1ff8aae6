"""The sandbox's manifest repository: a plain local Git repository driven through the `git` CLI.

Reads and commits go through plumbing (`cat-file`, a private index, `commit-tree`, `update-ref`
with the expected old value), so they never race a user's worktree; when `main` is checked out
in a clean worktree, the worktree follows the new commit so `git status` stays clean. Commit
dates come from the caller's clock, so with the simulated clock a commit sits on the same time
line as the cluster's events (change correlation needs that).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SANDBOX_AUTHOR = ("Sandbox GitOps", "gitops@sandbox.local")
_PLAIN_REF = re.compile(r"(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/-]*")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


class GitCommandError(RuntimeError):
    """A git command that exited non-zero."""

    def __init__(self, args: tuple[str, ...], returncode: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args)} failed ({returncode}): {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class Commit:
    """One commit on a branch."""

    sha: str
    message: str
    author: str
    date: datetime


class ManifestRepo:
    """A Git repository of manifests; `main` is what the sync loop deploys."""

    def __init__(
        self,
        path: str | Path,
        *,
        branch: str = "main",
        clock: Callable[[], datetime] | None = None,
        author: tuple[str, str] = SANDBOX_AUTHOR,
    ) -> None:
        self.path = Path(path)
        self.branch = branch
        self._clock = clock or (lambda: datetime.now(UTC))
        self._author = author
        self._lock = threading.Lock()  # serialises our own commits; update-ref guards against others

    # -- plumbing -----------------------------------------------------------------------------

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        name, email = self._author
        when = self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        return {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_CONFIG_NOSYSTEM": "1",
            "LC_ALL": "C",
            **(extra or {}),
        }

    def _run(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None, check: bool = True
    ) -> bytes:
        proc = subprocess.run(
            ["git", "-C", str(self.path), "-c", "core.quotePath=false", *args],
            input=stdin,
            capture_output=True,
            env=self._env(env),
            timeout=30,
            check=False,
        )
        if check and proc.returncode != 0:
            raise GitCommandError(args, proc.returncode, proc.stderr.decode(errors="replace"))
        return proc.stdout

    def _text(self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None) -> str:
        return self._run(*args, stdin=stdin, env=env).decode().strip()

    # -- set-up -------------------------------------------------------------------------------

    def init(self, files: Mapping[str, str], message: str = "Initial manifests") -> str:
        """Create the repository (`git init -b main`) with `files` as its first commit; returns the sha."""
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / ".git").exists():
            raise FileExistsError(f"{self.path} already holds a git repository")
        self._run("init", "-q", "-b", self.branch)
        # The worktree is for people to look at; identity is set so `git commit` works there too.
        self._run("config", "user.name", self._author[0])
        self._run("config", "user.email", self._author[1])
        for rel, text in files.items():
            target = self.path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self._run("add", "-A")
        self._run("commit", "-q", "-m", message)
        return self.head()

    # -- reads --------------------------------------------------------------------------------

    def head(self, ref: str | None = None) -> str:
        """The commit sha `ref` (default: the deployed branch) points at."""
        name = ref or f"refs/heads/{self.branch}"
        return self._loose_branch(name) or self._text("rev-parse", "--verify", f"{name}^{{commit}}")

    def _loose_branch(self, name: str) -> str | None:
        """The sha of branch `name` read from its loose ref file, as `git rev-parse` resolves it, or
        None to ask git (the sync loop asks every pass; a git process costs more than the pass).

        Only the plain case: a `.git` directory without packed refs, `name` resolving first to a file
        under refs/heads/ (git's lookup order) that holds a bare sha. Tags, packed or symbolic refs,
        revision expressions and other ref storage all go to git."""
        git_dir = self.path / ".git"
        if not _PLAIN_REF.fullmatch(name) or not git_dir.is_dir() or (git_dir / "packed-refs").exists():
            return None
        candidates = (
            [name]
            if name.startswith("refs/")
            else [name, f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}"]
        )
        for candidate in candidates:
            try:
                text = (git_dir / candidate).read_text(encoding="ascii").strip()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            except (OSError, UnicodeDecodeError):
                return None
            if candidate.startswith("refs/heads/") and _SHA.fullmatch(text):
                return text
            return None  # found first elsewhere (a tag, HEAD-like file) or not a bare sha: git decides
        return None

    def files(self, revision: str, under: str = "") -> dict[str, bytes]:
        """Every file (path -> content) in `revision`, optionally only below the folder `under`."""
        args = ["ls-tree", "-r", "-z", "--full-tree", revision]
        if under:
            args += ["--", under.rstrip("/") + "/"]
        entries = [e for e in self._run(*args).decode().split("\0") if e]
        blobs: list[tuple[str, str]] = []
        for entry in entries:
            info, path = entry.split("\t", 1)
            _mode, kind, sha = info.split()
            if kind == "blob":
                blobs.append((path, sha))
        if not blobs:
            return {}
        out = self._run("cat-file", "--batch", stdin="".join(f"{sha}\n" for _, sha in blobs).encode())
        result: dict[str, bytes] = {}
        pos = 0
        for path, _sha in blobs:
            header_end = out.index(b"\n", pos)
            size = int(out[pos:header_end].split()[2])
            start = header_end + 1
            result[path] = out[start : start + size]
            pos = start + size + 1
        return result

    def read(self, path: str, revision: str | None = None) -> str | None:
        """One file's text at `revision` (default: the branch head), or None when it does not exist."""
        spec = f"{revision or self.head()}:{path}"
        proc = subprocess.run(
            ["git", "-C", str(self.path), "cat-file", "-e", spec], capture_output=True, check=False
        )
        if proc.returncode != 0:
            return None
        return self._run("cat-file", "blob", spec).decode("utf-8")

    def log(self, limit: int = 20, ref: str | None = None) -> list[Commit]:
        """Commits on the branch, newest first."""
        fmt = "%H%x00%an <%ae>%x00%aI%x00%B%x1e"
        out = self._run("log", f"-{limit}", f"--format={fmt}", ref or f"refs/heads/{self.branch}").decode()
        commits = []
        for record in out.split("\x1e"):
            record = record.strip("\n")
            if not record:
                continue
            sha, author, date, message = record.split("\0", 3)
            commits.append(Commit(sha, message.strip(), author, datetime.fromisoformat(date)))
        return commits

    # -- writes -------------------------------------------------------------------------------

    def commit(
        self,
        changes: Mapping[str, str | None],
        message: str,
        *,
        branch: str | None = None,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Commit `changes` (path -> new text, None deletes) on top of `branch`; returns the new sha.

        Raises GitCommandError when the branch moved while the commit was being built (the caller
        may retry) and ValueError when nothing would change.
        """
        if not changes:
            raise ValueError("a commit needs at least one change")
        ref = f"refs/heads/{branch or self.branch}"
        who = author or self._author
        ident = {
            "GIT_AUTHOR_NAME": who[0],
            "GIT_AUTHOR_EMAIL": who[1],
            "GIT_COMMITTER_NAME": who[0],
            "GIT_COMMITTER_EMAIL": who[1],
        }
        with self._lock:
            old = self.head(ref)
            fd, index = tempfile.mkstemp(prefix="sandbox-index-")
            os.close(fd)
            os.unlink(index)  # git creates it itself
            env = {"GIT_INDEX_FILE": index}
            try:
                self._run("read-tree", old, env=env)
                for path, text in changes.items():
                    if text is None:
                        self._run("update-index", "--force-remove", "--", path, env=env)
                        continue
                    blob = self._text("hash-object", "-w", "--stdin", stdin=text.encode("utf-8"))
                    self._run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
                tree = self._text("write-tree", env=env)
            finally:
                if os.path.exists(index):
                    os.unlink(index)
            if tree == self._text("rev-parse", f"{old}^{{tree}}"):
                raise ValueError("the commit would change nothing")
            new = self._text("commit-tree", tree, "-p", old, stdin=message.encode(), env=ident)
            follow = self._clean_checkout_of(ref)
            self._run("update-ref", "-m", "sandbox commit", ref, new, old)
            if follow:
                # The index and files still describe `old`: move them to `new` (HEAD already moved).
                self._run("read-tree", "-m", "-u", old, new, check=False)
            return new

    def _clean_checkout_of(self, ref: str) -> bool:
        """True when the worktree has `ref` checked out with no local changes."""
        current = self._run("symbolic-ref", "-q", "HEAD", check=False).decode().strip()
        if current != ref:
            return False
        return not self._run("status", "--porcelain", "--untracked-files=no", check=False).strip()
