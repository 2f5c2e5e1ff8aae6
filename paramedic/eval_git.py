"""What a commit on the sandbox's GitOps `main` changed, read from Git for the eval harness.

`commit_effect` compares the manifests at a commit with those at its first parent (for a merged
pull request: the whole pull request), field by field (`evals.effects.manifests_changes`), and
collects the commits it says it reverts from the messages it brought in (git's own "This reverts
commit <sha>."). The harness judges the agent's actions with it: changes with their direction,
and no-ops (an empty diff, a revert of a revert, a commit older than the agent).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evals.effects import CommitEffect, manifests_changes, reverted_shas
from sandbox.faults.yamledit import ManifestFiles
from sandbox.gitops import ManifestRepo


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def _full(repo: Path, rev: str) -> str | None:
    proc = _git(repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _ancestor(repo: Path, older: str, newer: str) -> bool:
    return _git(repo, "merge-base", "--is-ancestor", older, newer).returncode == 0


Objects = Callable[[str], dict[str, dict[str, Any]]]  # revision -> its manifests' objects by id


def commit_effect(
    repo: ManifestRepo, folder: str, sha: str, base: str, objects: Objects | None = None
) -> CommitEffect | None:
    """What commit `sha` changed under `folder` on the deployed branch; None when it is not on it.

    `base`: the branch head when the agent started (`before_base`: the commit is that old).
    `objects`: how to read a revision's objects (a caller may cache them: a revision never changes);
    by default each is parsed afresh."""
    full = _full(repo.path, sha)
    if full is None or not _ancestor(repo.path, full, repo.head()):
        return None
    read = objects or (lambda revision: ManifestFiles(repo, folder, revision).objects())
    parent = _full(repo.path, f"{full}^1")
    before = read(parent) if parent else {}
    after = read(full)
    brought = repo.log(limit=200, ref=f"{parent}..{full}" if parent else full)
    return CommitEffect(
        sha=full,
        changes=tuple(manifests_changes(before, after)),
        reverts=tuple(
            s for s in (_full(repo.path, r) for r in reverted_shas(c.message for c in brought)) if s
        ),
        before_base=_ancestor(repo.path, full, base),
    )
