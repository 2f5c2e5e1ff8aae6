"""End to end: the local Git provider's pull request, merged, is synced by the sandbox and heals."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.cluster import Sandbox
from sandbox.resources import DEPLOYMENTS, PODS
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import PullRequestSpec, Workload
from tools.guard import FieldAllowListGuard

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def sandbox(tmp_path) -> Iterator[Sandbox]:
    with Sandbox(workdir=tmp_path / "sb", seed=11, time_factor=40.0) as sb:
        sb.wait_healthy(timeout=60)
        yield sb


def _restarts(sb: Sandbox, app: str) -> int:
    pods, _ = sb.store.list(PODS, "shop", copy=False)
    return sum(
        cs.get("restartCount", 0)
        for p in pods
        if p["metadata"]["name"].startswith(f"{app}-")
        for cs in (p.get("status") or {}).get("containerStatuses") or []
    )


def test_branch_commit_pr_merge_then_sync_heals_the_oom(sandbox: Sandbox) -> None:
    fault = sandbox.inject("oom", "shop/deploy/joke-service")
    assert sandbox.wait_for(lambda: _restarts(sandbox, "joke-service") >= 2, 900), "the OOM never showed"
    assert fault.truth.fix_patch is not None

    repo = LocalGitRepo(sandbox.repo_path)
    workload = Workload("Deployment", "joke-service", "shop")
    location = repo.find_manifest(workload)
    assert location.ok, location.error
    assert repo.create_branch("paramedic/oom-joke-service").ok
    committed = repo.commit_manifest_patch(
        location.data,
        fault.truth.fix_patch,
        branch="paramedic/oom-joke-service",
        message="Raise joke-service memory limit (OOMKilled)",
        guard=FieldAllowListGuard(),
    )
    assert committed.ok, committed.error
    assert "memory" in committed.data.diff
    spec = PullRequestSpec(
        title="Raise joke-service memory limit",
        root_cause="Container OOMKilled: memory limit below the working set.",
        fingerprint="oom-joke-service",
        diff=committed.data.diff,
        labels=("paramedic",),
    )
    pr = repo.open_pull_request(
        spec, head="paramedic/oom-joke-service", guard=FieldAllowListGuard(), workload=workload
    )
    assert pr.ok, pr.error
    assert repo.find_open_pull_request("oom-joke-service").data.number == pr.data.number
    merged = repo.merge_pull_request(pr.data.number, guard=FieldAllowListGuard(), workload=workload)
    assert merged.ok and merged.data.state == "merged", merged.error

    def fixed_and_healthy() -> bool:
        live = sandbox.store.find(DEPLOYMENTS, "shop", "joke-service")
        return (
            live is not None
            and fault.truth.is_fixed({fault.truth.faulty_resource: live})
            and sandbox.healthy()
        )

    assert sandbox.wait_for(fixed_and_healthy, 1800), "the merged fix did not heal the workload"
    settled = _restarts(sandbox, "joke-service")
    sandbox.advance(300)
    assert _restarts(sandbox, "joke-service") == settled, "restart count kept climbing after the fix"
