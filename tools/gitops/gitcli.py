"""A thin runner for the `git` command line, used by the local provider and its tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
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
