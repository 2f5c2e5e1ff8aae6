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

from sandbox.gitops.tree_cache import TreeCache

SANDBOX_AUTHOR = ("Sandbox GitOps", "gitops@sandbox.local")
_PLAIN_REF = re.compile(r"(?!.*\.\.)(?!.*//)[A-Za-z0-9][A-Za-z0-9._/-]*")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_CACHED_COMMITS = 64  # commit -> tree pairs kept


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
        self._read = TreeCache()  # what was read at full commit shas
        self._trees: dict[str, str] = {}  # commit -> tree, for commits made or compared here

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
        # Appended as `git config` would write it (a process each costs more than the whole start).
        with open(self.path / ".git" / "config", "a", encoding="utf-8") as config:
            config.write(f"[user]\n\tname = {_config_value(self._author[0])}\n")
            config.write(f"\temail = {_config_value(self._author[1])}\n")
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
        # os.path on strings, not pathlib: this runs on every sync pass and health check.
        git_dir = os.path.join(self.path, ".git")
        if (
            not _PLAIN_REF.fullmatch(name)
            or not os.path.isdir(git_dir)
            or os.path.exists(os.path.join(git_dir, "packed-refs"))
        ):
            return None
        candidates = (
            [name]
            if name.startswith("refs/")
            else [name, f"refs/{name}", f"refs/tags/{name}", f"refs/heads/{name}"]
        )
        for candidate in candidates:
            try:
                with open(os.path.join(git_dir, candidate), encoding="ascii") as ref:
                    text = ref.read().strip()
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
        key = TreeCache.key(revision, under)
        cached = None if key is None else self._read.get(key)
        if cached is not None:
            return cached
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
        result: dict[str, bytes] = {}
        if blobs:
            out = self._run("cat-file", "--batch", stdin="".join(f"{sha}\n" for _, sha in blobs).encode())
            pos = 0
            for path, _sha in blobs:
                header_end = out.index(b"\n", pos)
                size = int(out[pos:header_end].split()[2])
                start = header_end + 1
                result[path] = out[start : start + size]
                pos = start + size + 1
        if key is not None:
            self._read.put(key, result)
        return result

    def read(self, path: str, revision: str | None = None) -> str | None:
        """One file's text at `revision` (default: the branch head), or None when it does not exist."""
        rev = revision or self.head()
        known = self._read.file(rev, path)
        if known is not None:
            return known.decode("utf-8")
        spec = f"{rev}:{path}"
        if "\n" in spec:  # cat-file --batch reads one name a line
            proc = subprocess.run(
                ["git", "-C", str(self.path), "cat-file", "-e", spec], capture_output=True, check=False
            )
            if proc.returncode != 0:
                return None
            return self._run("cat-file", "blob", spec).decode("utf-8")
        out = self._run("cat-file", "--batch", stdin=f"{spec}\n".encode())
        header, _, rest = out.partition(b"\n")
        fields = header.split()
        if len(fields) != 3:  # "<name> missing" (or ambiguous): no such file, as `cat-file -e` says
            return None
        if fields[1] != b"blob":
            raise GitCommandError(("cat-file", "blob", spec), 128, f"fatal: {spec} is a {fields[1].decode()}")
        return rest[: int(fields[2])].decode("utf-8")

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
        data = {path: None if text is None else text.encode("utf-8") for path, text in changes.items()}
        with self._lock:
            old = self.head(ref)
            blobs = self._write_blobs([d for d in data.values() if d is not None])
            # One update-index for every change, in the caller's order: --cacheinfo adds a blob,
            # a bare path is removed (--force-remove); a path is never replaced by a folder or back.
            update = ["update-index", "--add", "--force-remove"]
            for path, content in data.items():
                if content is None:
                    update.append(f"./{path}" if path.startswith("-") else path)  # not an option
                else:
                    update += ["--cacheinfo", f"100644,{blobs[content]},{path}"]
            fd, index = tempfile.mkstemp(prefix="sandbox-index-")
            os.close(fd)
            os.unlink(index)  # git creates it itself
            env = {"GIT_INDEX_FILE": index}
            try:
                self._run("read-tree", old, env=env)
                self._run(*update, env=env)
                tree = self._text("write-tree", env=env)
            finally:
                if os.path.exists(index):
                    os.unlink(index)
            if tree == self._tree_of(old):
                raise ValueError("the commit would change nothing")
            new = self._text("commit-tree", tree, "-p", old, stdin=message.encode(), env=ident)
            follow = self._clean_checkout_of(ref)
            self._run("update-ref", "-m", "sandbox commit", ref, new, old)
            self._remember_tree(new, tree)
            self._read.carry_over(old, new, data)
            if follow:
                # The index and files still describe `old`: move them to `new` (HEAD already moved).
                self._run("read-tree", "-m", "-u", old, new, check=False)
            return new

    def _write_blobs(self, contents: list[bytes]) -> dict[bytes, str]:
        """Store each content as a blob, in one `git hash-object`; content -> blob sha."""
        unique = list(dict.fromkeys(contents))
        if not unique:
            return {}
        with tempfile.TemporaryDirectory(prefix="sandbox-blobs-") as folder:
            paths = []
            for n, content in enumerate(unique):
                path = os.path.join(folder, str(n))
                with open(path, "wb") as f:
                    f.write(content)
                paths.append(path)
            # --no-filters: the bytes as given, as `hash-object --stdin` stores them (no EOL conversion).
            out = self._text(
                "hash-object",
                "-w",
                "--no-filters",
                "--stdin-paths",
                stdin="".join(f"{p}\n" for p in paths).encode(),
            )
        return dict(zip(unique, out.split(), strict=True))

    def _tree_of(self, commit: str) -> str:
        tree = self._trees.get(commit)
        if tree is None:
            tree = self._text("rev-parse", f"{commit}^{{tree}}")
            self._remember_tree(commit, tree)
        return tree

    def _remember_tree(self, commit: str, tree: str) -> None:
        self._trees[commit] = tree
        if len(self._trees) > _CACHED_COMMITS:
            del self._trees[next(iter(self._trees))]  # the oldest

    def _clean_checkout_of(self, ref: str) -> bool:
        """True when the worktree has `ref` checked out with no local changes."""
        current = self._symbolic_head()
        if current != ref:
            return False
        return not self._run("status", "--porcelain", "--untracked-files=no", check=False).strip()

    def _symbolic_head(self) -> str:
        """The branch HEAD names ("" when detached), from `.git/HEAD` when it is a plain file, as
        `git symbolic-ref -q HEAD` says."""
        try:
            text = (self.path / ".git" / "HEAD").read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            text = ""
        if text.startswith("ref: ") and _PLAIN_REF.fullmatch(text[5:].strip()):
            return text[5:].strip()
        if _SHA.fullmatch(text):
            return ""
        return self._run("symbolic-ref", "-q", "HEAD", check=False).decode().strip()


def _config_value(value: str) -> str:
    """`value` quoted for a git config file (git-config(1): backslash and double quote escaped)."""
    if "\n" in value or "\0" in value:
        raise ValueError(f"a git identity cannot hold a newline: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
