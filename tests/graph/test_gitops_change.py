"""GitOps changes on a real local repository: branch -> commit -> PR -> merge, reuse across a crash,
already-applied changes, and every write through the remediation policy."""

from __future__ import annotations

from pathlib import Path

from graph.gitops_change import _reversed, branch_name, propose_patch, propose_revert
from graph.policies import PolicyConfig, RemediationPolicy
from tests.graph.test_remediation import (
    PATH,
    deployment_body,
    gitops,
    image_patch,
    main_text,
    memory_patch,
    pulls,
)
from tests.tools.gitops.conftest import commit_files, git
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import PullRequestSpec, Workload

__all__ = ["gitops"]
CHECKOUT = Workload("Deployment", "checkout", "shop")
FP = "fp-checkout-oom-0001"
MERGING = RemediationPolicy(PolicyConfig(allow_merge=True), deployment_body())


def spec(fingerprint: str = FP) -> PullRequestSpec:
    return PullRequestSpec(
        title="paramedic: oom in Deployment/checkout", root_cause="OOMKilled", fingerprint=fingerprint
    )


def patch(
    repo: LocalGitRepo, merge: bool = True, memory: str = "512Mi", branch: str = "paramedic/fix-a1", **kw
):  # type: ignore[no-untyped-def]
    return propose_patch(
        repo,
        CHECKOUT,
        memory_patch(memory),
        spec=kw.pop("spec", spec()),
        branch=branch,
        guard=kw.pop("guard", MERGING),
        merge=merge,
    )


def test_branch_names_are_a_function_of_fingerprint_run_and_attempt() -> None:
    assert branch_name("abcdef0123456789", "run-12345678-x", 2) == "paramedic/fix-abcdef012345-run-1234-a2"
    assert branch_name("abcdef0123456789", "run-12345678-x", 2) == branch_name(
        "abcdef0123456789", "run-12345678-x", 2
    )
    assert branch_name("abcdef0123456789", "run-12345678-x", 3) != branch_name(
        "abcdef0123456789", "run-12345678-x", 2
    )


def test_patch_is_committed_opened_and_merged(gitops: Path) -> None:
    change = patch(LocalGitRepo(gitops))
    assert change.ok and change.merged and change.merge_sha
    [pull] = pulls(gitops)
    assert pull.state == "merged" and pull.merge_sha == change.merge_sha and change.pr_url == pull.url
    assert "512Mi" in change.diff and "512Mi" in main_text(gitops)
    assert [s.split()[0] for s in change.steps] == ["found", "created", "committed", "opened", "merged"]


def test_without_merge_the_pr_stays_open(gitops: Path) -> None:
    before = main_text(gitops)
    change = patch(LocalGitRepo(gitops), merge=False)
    assert change.ok and not change.merged and change.merge_sha is None
    assert "waits for a merge" in change.detail and main_text(gitops) == before
    assert [p.state for p in pulls(gitops)] == ["open"]


def test_a_merge_policy_refuses_leaves_the_pr_open_and_fails(gitops: Path) -> None:
    no_merge = RemediationPolicy(PolicyConfig(allow_merge=False), deployment_body())
    before = main_text(gitops)
    change = patch(LocalGitRepo(gitops), guard=no_merge)
    assert not change.ok and "could not be merged" in change.detail
    assert [p.state for p in pulls(gitops)] == ["open"] and main_text(gitops) == before


def test_a_patch_policy_forbids_is_never_committed(gitops: Path) -> None:
    before = main_text(gitops)
    change = propose_patch(
        LocalGitRepo(gitops),
        CHECKOUT,
        image_patch(),
        spec=spec(),
        branch="paramedic/x",
        guard=MERGING,
        merge=True,
    )
    assert not change.ok and change.detail.startswith("commit failed")
    assert pulls(gitops) == [] and main_text(gitops) == before
    assert git(gitops, "rev-parse", "paramedic/x").strip() == git(gitops, "rev-parse", "main").strip()


def test_an_open_pr_for_the_fingerprint_is_reused_not_duplicated(gitops: Path) -> None:
    repo = LocalGitRepo(gitops)
    first = patch(repo, merge=False)
    again = patch(repo, merge=True, branch="paramedic/fix-other-branch")
    assert again.ok and again.merged and again.steps[0] == f"reused open pull request #{first.pr.number}"  # type: ignore[union-attr]
    [pull] = pulls(gitops)
    assert pull.number == first.pr.number and pull.state == "merged"  # type: ignore[union-attr]


def test_a_change_already_on_main_is_reported_as_such(gitops: Path) -> None:
    repo = LocalGitRepo(gitops)
    assert patch(repo).merged
    again = patch(repo, branch="paramedic/fix-a2", spec=spec("fp-another"))
    assert again.ok and again.merged and again.detail == "the base branch already holds this change"
    assert len(pulls(gitops)) == 1


def test_replaying_a_step_that_merged_before_the_crash_reports_it_merged(gitops: Path) -> None:
    repo = LocalGitRepo(gitops)
    first = patch(repo)
    again = patch(repo)  # same branch, same fingerprint: the step that merged is replayed
    assert again.ok and again.merged, again.detail
    assert "already merged" in again.detail and len(pulls(gitops)) == 1
    assert main_text(gitops) == git(gitops, "show", f"{first.merge_sha}:{PATH}")
    # still undoable: the commit to revert is the branch's fix commit, and reverting it restores main
    assert again.merge_sha and again.merge_sha != first.merge_sha
    before_fix = git(gitops, "show", f"{first.merge_sha}^1:{PATH}")
    undo = propose_revert(repo, CHECKOUT, again.merge_sha, spec=spec("fp-undo"), guard=MERGING, merge=True)
    assert undo.ok and undo.merged and main_text(gitops) == before_fix


def test_revert_opens_a_revert_pr_and_reports_the_reversed_diff(gitops: Path) -> None:
    good = main_text(gitops)
    bad = commit_files(gitops, {PATH: good.replace("checkout:1.14.2", "checkout:9.9.9")}, "bump image")
    repo = LocalGitRepo(gitops)
    change = propose_revert(repo, CHECKOUT, bad, spec=spec(), guard=MERGING, merge=True)
    assert change.ok and change.merged and main_text(gitops) == good
    assert '-          image: "ghcr.io/acme/checkout:9.9.9"' in change.diff
    assert '+          image: "ghcr.io/acme/checkout:1.14.2"' in change.diff


def test_revert_reuses_an_open_revert_pr(gitops: Path) -> None:
    good = main_text(gitops)
    bad = commit_files(gitops, {PATH: good.replace("checkout:1.14.2", "checkout:9.9.9")}, "bump image")
    repo = LocalGitRepo(gitops)
    first = propose_revert(repo, CHECKOUT, bad, spec=spec(), guard=MERGING, merge=False)
    again = propose_revert(repo, CHECKOUT, bad, spec=spec(), guard=MERGING, merge=True)
    assert first.ok and not first.merged and again.ok and again.merged
    assert len(pulls(gitops)) == 1 and main_text(gitops) == good


def test_reversed_swaps_added_and_removed_lines_only() -> None:
    diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n context"
    assert _reversed(diff) == "--- a/x\n+++ b/x\n@@ -1 +1 @@\n+old\n-new\n context"


def test_replaying_a_revert_that_merged_before_the_crash_reports_it_live(gitops: Path) -> None:
    good = main_text(gitops)
    bad = commit_files(gitops, {PATH: good.replace("checkout:1.14.2", "checkout:9.9.9")}, "bump image")
    repo = LocalGitRepo(gitops)
    assert propose_revert(repo, CHECKOUT, bad, spec=spec(), guard=MERGING, merge=True).merged
    again = propose_revert(repo, CHECKOUT, bad, spec=spec(), guard=MERGING, merge=True)
    assert again.ok and again.merged, again.detail
    assert again.detail == f"commit {bad[:12]} is already reverted on main"
    assert len(pulls(gitops)) == 1 and main_text(gitops) == good
    # the revert commit is what to revert to undo it
    assert f"This reverts commit {bad}" in git(gitops, "log", "-1", "--format=%B", again.merge_sha or "")
