"""Fixtures for the GitOps tests: real git repositories in temporary directories."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.manifests import with_containers
from tools.gitops.records import ManifestLocation, Workload
from tools.guard import FieldAllowListGuard, GuardDecision, Verdict, WriteRequest
from tools.result import ToolResult

DATA = Path(__file__).parent / "data"


def git(repo: Path, *args: str, stdin: str | None = None, date: str | None = None) -> str:
    """Run git in `repo` as a test user (at `date`, when given) and answer stdout."""
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else None
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=Dev", "-c", "user.email=dev@example.com", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        check=True,
    )
    return proc.stdout


def write_files(root: Path, files: Mapping[str, str]) -> None:
    """Write `files` (path -> text) under `root`."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def commit_files(repo: Path, files: Mapping[str, str], message: str, date: str | None = None) -> str:
    """Write, add and commit `files` in the checkout; answer the new commit sha."""
    write_files(repo, files)
    git(repo, "add", "--", *files)
    git(repo, "commit", "-q", "-m", message, date=date)
    return git(repo, "rev-parse", "HEAD").strip()


def manifest_files() -> dict[str, str]:
    """A realistic GitOps layout: plain manifests, a kustomize base/overlay, a Helm chart, docs."""
    return {
        "README.md": "# shop manifests\n",
        "deploy/checkout/deployment.yaml": (DATA / "checkout-deployment.yaml").read_text(),
        "manifests/worker.yaml": (DATA / "worker-compact.yaml").read_text(),
        "apps/api/base/deployment.yaml": (DATA / "kustomize/base-deployment.yaml").read_text(),
        "apps/api/base/kustomization.yaml": (DATA / "kustomize/base-kustomization.yaml").read_text(),
        "apps/api/overlays/prod/kustomization.yaml": (DATA / "kustomize/prod-kustomization.yaml").read_text(),
        "apps/api/overlays/prod/replicas.yaml": (DATA / "kustomize/prod-replicas.yaml").read_text(),
        "charts/shop/templates/deployment.yaml": (DATA / "helm-template.yaml").read_text(),
    }


def init_manifest_repo(repo: Path) -> Path:
    """Make `repo` a non-bare repository on `main`, checked out, with one commit of `manifest_files()`."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_files(repo, manifest_files(), "Initial manifests", date="2024-05-01T10:00:00Z")
    return repo


@pytest.fixture
def manifest_repo(tmp_path: Path) -> Path:
    """A non-bare repository on `main`, checked out, with one commit of `manifest_files()`."""
    return init_manifest_repo(tmp_path / "gitops")


def allow_all(request: WriteRequest) -> GuardDecision:
    """A guard that allows everything (the tests of refusal use their own)."""
    return GuardDecision(Verdict.ALLOW, "test: allowed")


def recording_guard(verdict: Verdict) -> tuple[Callable[[WriteRequest], GuardDecision], list[WriteRequest]]:
    """A guard answering `verdict` that remembers what it was asked."""
    seen: list[WriteRequest] = []

    def guard(request: WriteRequest) -> GuardDecision:
        seen.append(request)
        return GuardDecision(verdict, f"test: {verdict.value}")

    return guard, seen


@pytest.fixture
def fake_github(manifest_repo: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A fake GitHub (Enterprise-style /api/v3) serving a bare clone of `manifest_repo`; always stopped."""
    from tests.tools.gitops.fake_github import FakeGitHub

    bare = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(manifest_repo), str(bare))
    server = FakeGitHub(bare).start()
    try:
        yield server
    finally:
        server.stop()


CHECKOUT = Workload("Deployment", "checkout", "shop")
MEMORY_PATCH = with_containers({"name": "checkout", "resources": {"limits": {"memory": "512Mi"}}})


def raise_checkout_memory(repo: Any, location: ManifestLocation) -> ToolResult[Any]:
    """Commit MEMORY_PATCH on branch paramedic/oom-checkout of `repo` (GitHub or local), as a fix would."""
    return repo.commit_manifest_patch(
        location,
        MEMORY_PATCH,
        branch="paramedic/oom-checkout",
        message="Raise memory",
        guard=FieldAllowListGuard(),
    )
