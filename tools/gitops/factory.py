"""Build the configured `GitOpsRepo` from plain values (the CLI maps `GitSettings` onto this)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from tools.gitops.base import GitOpsRepo
from tools.result import TraceSink, discard


def open_repo(
    provider: Literal["local", "github"],
    *,
    local_path: str | Path | None = None,
    github_repo: str | None = None,
    github_base_url: str = "https://api.github.com",
    token: str | None = None,
    base_branch: str = "main",
    auto_merge: bool = False,
    sink: TraceSink = discard,
) -> GitOpsRepo:
    """The local provider (needs `local_path`) or the GitHub one (needs `github_repo`)."""
    if provider == "local":
        if local_path is None:
            raise ValueError("git.local_path is required for the local provider")
        from tools.gitops.local import LocalGitRepo

        return LocalGitRepo(local_path, base_branch=base_branch, sink=sink)
    if provider == "github":
        if not github_repo:
            raise ValueError("git.github_repo (owner/name) is required for the GitHub provider")
        from tools.gitops.github import GitHubRepo

        return GitHubRepo(
            github_repo,
            token=token,
            base_url=github_base_url,
            base_branch=base_branch,
            auto_merge=auto_merge,
            sink=sink,
        )
    raise ValueError(f"unknown git provider {provider!r}: expected 'local' or 'github'")
