"""The local Git provider against real repositories: reads, branch -> commit -> PR -> merge, reverts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from tests.tools.gitops.conftest import (
    CHECKOUT,
    MEMORY_PATCH,
    allow_all,
    commit_files,
    git,
    raise_checkout_memory,
    recording_guard,
)
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import ManifestLocation, PullRequest, PullRequestSpec
from tools.guard import FieldAllowListGuard, Verdict
from tools.result import ToolCallEvent, ToolStatus


def spec(fingerprint: str = "fp0123456789abcd", **extra: object) -> PullRequestSpec:
    return PullRequestSpec(
        title="checkout: raise memory limit to 512Mi",
        root_cause="OOMKilled: working set reached the 256Mi limit under load",
        fingerprint=fingerprint,
        evidence=("container checkout OOMKilled 4 times in 10m", "memory working set peaked at 251Mi"),
        labels=("paramedic", "oom"),
        **extra,  # type: ignore[arg-type]
    )


def open_fix(repo: LocalGitRepo) -> tuple[ManifestLocation, PullRequest]:
    """The memory fix committed on branch `fix` and proposed as an open pull request."""
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    assert repo.create_branch("fix").ok
    assert repo.commit_manifest_patch(location, MEMORY_PATCH, branch="fix", message="m", guard=allow_all).ok
    pull = repo.open_pull_request(spec(), head="fix", guard=allow_all, workload=CHECKOUT).data
    assert pull is not None
    return location, pull


@pytest.fixture
def events() -> list[ToolCallEvent]:
    return []


@pytest.fixture
def repo(manifest_repo: Path, events: list[ToolCallEvent]) -> LocalGitRepo:
    return LocalGitRepo(manifest_repo, sink=events.append)


def test_not_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a git repository"):
        LocalGitRepo(tmp_path)


def test_end_to_end_branch_commit_pull_merge(repo: LocalGitRepo, manifest_repo: Path) -> None:
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    assert repo.create_branch("paramedic/oom-checkout").ok
    committed = raise_checkout_memory(repo, location)
    assert committed.ok, committed.error
    assert committed.data is not None
    assert '+              memory: "512Mi"   # OOMs above ~240Mi under load' in committed.data.diff
    # The base branch and the user's checkout are untouched until the merge.
    assert "256Mi" in repo.read_file(location.path).data  # type: ignore[operator]
    assert git(manifest_repo, "status", "--porcelain") == ""

    opened = repo.open_pull_request(
        spec(diff=committed.data.diff), head="paramedic/oom-checkout", guard=allow_all, workload=CHECKOUT
    )
    assert opened.ok, opened.error
    pull = opened.data
    assert pull is not None and pull.number == 1 and pull.state == "open"
    assert pull.labels == ("paramedic", "oom", "paramedic-fp:fp0123456789abcd")
    assert "## Root cause" in pull.body and "memory working set peaked" in pull.body
    assert "```diff" in pull.body and '+              memory: "512Mi"' in pull.body

    merged = repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT)
    assert merged.ok, merged.error
    assert merged.data is not None and merged.data.state == "merged"
    # A real no-ff merge commit on main with both parents, and main's manifest now has the fix.
    parents = git(manifest_repo, "rev-list", "--parents", "-n1", "main").split()
    assert parents[0] == merged.data.merge_sha and len(parents) == 3
    text = git(manifest_repo, "show", f"main:{location.path}")
    assert (
        yaml.safe_load_all(text).__next__()["spec"]["template"]["spec"]["containers"][0]["resources"][
            "limits"
        ]["memory"]
        == "512Mi"
    )
    # The clean checkout of main followed the merge instead of showing phantom changes.
    assert git(manifest_repo, "status", "--porcelain") == ""
    assert (manifest_repo / location.path).read_text() == text
    assert repo.get_pull_request(1).data.state == "merged"  # type: ignore[union-attr]
    assert repo.find_open_pull_request("fp0123456789abcd").data is None


def test_merge_leaves_a_dirty_checkout_alone(repo: LocalGitRepo, manifest_repo: Path) -> None:
    location, pull = open_fix(repo)
    (manifest_repo / "README.md").write_text("local edit\n")
    assert repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT).ok
    assert (manifest_repo / "README.md").read_text() == "local edit\n"
    assert "512Mi" in git(manifest_repo, "show", f"main:{location.path}")


def test_a_merge_that_loses_the_race_for_the_base_merges_again_onto_its_new_head(
    repo: LocalGitRepo, manifest_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs' pull requests merged at once: the other one lands on main after this merge's
    # commit was built and before main moves, so update-ref's compare-and-swap refuses this one.
    location, pull = open_fix(repo)
    advance = repo._advance
    raced: list[str] = []

    def other_writer_first(branch: str, new: str, old: str) -> None:
        if not raced:
            (manifest_repo / "OTHER.md").write_text("another run's merge\n")
            git(manifest_repo, "add", "OTHER.md")
            git(manifest_repo, "commit", "-q", "-m", "another merge")
            raced.append(git(manifest_repo, "rev-parse", "main").strip())
        advance(branch, new, old)

    monkeypatch.setattr(repo, "_advance", other_writer_first)
    merged = repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT)
    assert merged.ok, merged.error
    assert merged.data is not None and merged.data.state == "merged"
    # the merge was rebuilt on the other writer's commit: both changes are on main, nothing lost
    parents = git(manifest_repo, "rev-list", "--parents", "-n1", "main").split()
    assert parents[0] == merged.data.merge_sha and parents[1] == raced[0]
    assert "512Mi" in git(manifest_repo, "show", f"main:{location.path}")
    assert git(manifest_repo, "show", "main:OTHER.md") == "another run's merge\n"


def test_denied_patch_touches_nothing(
    repo: LocalGitRepo, manifest_repo: Path, events: list[ToolCallEvent]
) -> None:
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("fix")
    before = git(manifest_repo, "rev-parse", "fix")
    image_patch = {
        "spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "evil:latest"}]}}}
    }
    result = repo.commit_manifest_patch(
        location, image_patch, branch="fix", message="m", guard=FieldAllowListGuard()
    )
    assert result.status is ToolStatus.DENIED
    assert "spec.template.spec.containers[*].image" in (result.error or "")
    assert git(manifest_repo, "rev-parse", "fix") == before
    assert events[-1].tool == "gitops.commit_manifest_patch" and events[-1].status is ToolStatus.DENIED
    # The same image change is allowed as a rollback.
    rolled = repo.commit_manifest_patch(
        location, image_patch, branch="fix", message="m", guard=FieldAllowListGuard(), action="rollback"
    )
    assert rolled.ok, rolled.error


def test_needs_approval_refuses_open_and_merge(repo: LocalGitRepo, manifest_repo: Path) -> None:
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("fix")
    repo.commit_manifest_patch(location, MEMORY_PATCH, branch="fix", message="m", guard=allow_all)
    guard, seen = recording_guard(Verdict.NEEDS_APPROVAL)
    result = repo.open_pull_request(spec(), head="fix", guard=guard, workload=CHECKOUT)
    assert result.status is ToolStatus.NEEDS_APPROVAL
    assert seen[0].action == "open_pr" and (seen[0].namespace, seen[0].name) == ("shop", "checkout")
    assert repo.find_open_pull_request("fp0123456789abcd").data is None
    pull = repo.open_pull_request(spec(), head="fix", guard=allow_all, workload=CHECKOUT).data
    assert pull is not None
    main_before = git(manifest_repo, "rev-parse", "main")
    denied = repo.merge_pull_request(pull.number, guard=recording_guard(Verdict.DENY)[0], workload=CHECKOUT)
    assert denied.status is ToolStatus.DENIED
    assert git(manifest_repo, "rev-parse", "main") == main_before
    assert repo.get_pull_request(pull.number).data.state == "open"  # type: ignore[union-attr]


def test_no_duplicate_pull_for_the_same_fingerprint(repo: LocalGitRepo) -> None:
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    for branch in ("fix-1", "fix-2"):
        repo.create_branch(branch)
        repo.commit_manifest_patch(location, MEMORY_PATCH, branch=branch, message="m", guard=allow_all)
    first = repo.open_pull_request(spec(), head="fix-1", guard=allow_all, workload=CHECKOUT)
    assert first.ok
    found = repo.find_open_pull_request("fp0123456789abcd")
    assert found.data is not None and found.data.number == first.data.number  # type: ignore[union-attr]
    second = repo.open_pull_request(spec(), head="fix-2", guard=allow_all, workload=CHECKOUT)
    assert second.status is ToolStatus.ERROR and "already open" in (second.error or "")
    other = repo.open_pull_request(spec("another-incident"), head="fix-2", guard=allow_all, workload=CHECKOUT)
    assert other.ok and other.data.number == 2  # type: ignore[union-attr]


def test_writes_refuse_bad_input(repo: LocalGitRepo) -> None:
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    assert "already exists" in (repo.create_branch("main").error or "")
    assert "not a valid branch name" in (repo.create_branch("bad..name").error or "")
    on_main = repo.commit_manifest_patch(location, MEMORY_PATCH, branch="main", message="m", guard=allow_all)
    assert "base branch" in (on_main.error or "")
    repo.create_branch("empty")
    assert "no commits" in (
        repo.open_pull_request(spec(), head="empty", guard=allow_all, workload=CHECKOUT).error or ""
    )
    noop = repo.commit_manifest_patch(
        location, {"spec": {"replicas": 2}}, branch="empty", message="m", guard=allow_all
    )
    assert "changes nothing" in (noop.error or "")
    assert "no pull request #9" in (
        repo.merge_pull_request(9, guard=allow_all, workload=CHECKOUT).error or ""
    )


def test_recent_commits_by_path_workload_and_window(repo: LocalGitRepo, manifest_repo: Path) -> None:
    bump = commit_files(
        manifest_repo,
        {
            "deploy/checkout/deployment.yaml": (manifest_repo / "deploy/checkout/deployment.yaml")
            .read_text()
            .replace("checkout:1.14.2", "checkout:1.15.0")
        },
        "checkout: bump to 1.15.0\n\nRelease notes in CHANGELOG.",
        date="2024-05-02T09:30:00Z",
    )
    commit_files(manifest_repo, {"README.md": "# docs\n"}, "docs", date="2024-05-03T09:30:00Z")
    by_workload = repo.recent_commits(workload=CHECKOUT)
    assert by_workload.ok, by_workload.error
    newest = (by_workload.data or [])[0]
    assert newest.sha == bump
    assert newest.title == "checkout: bump to 1.15.0" and newest.author == "Dev <dev@example.com>"
    assert newest.files == ("deploy/checkout/deployment.yaml",)
    assert newest.date == datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    assert len(by_workload.data or []) == 2
    window = repo.recent_commits(path="README.md", since=datetime(2024, 5, 2, tzinfo=UTC))
    assert [c.title for c in window.data or []] == ["docs"]
    naive = repo.recent_commits(since=datetime(2024, 5, 2))
    assert naive.status is ToolStatus.ERROR and "timezone-aware" in (naive.error or "")


def test_commit_diff(repo: LocalGitRepo, manifest_repo: Path) -> None:
    path = "deploy/checkout/deployment.yaml"
    sha = commit_files(
        manifest_repo,
        {path: (manifest_repo / path).read_text().replace("replicas: 2", "replicas: 3")},
        "scale",
    )
    diff = repo.commit_diff(sha)
    assert diff.ok, diff.error
    assert diff.data is not None and [f.path for f in diff.data.files] == [path]
    assert diff.data.files[0].status == "modified"
    assert "-  replicas: 2   # scaled by the HPA in prod\n+  replicas: 3" in diff.data.files[0].patch
    root = git(manifest_repo, "rev-list", "--max-parents=0", "HEAD").strip()
    assert all(f.status == "added" for f in repo.commit_diff(root).data.files)  # type: ignore[union-attr]
    assert repo.commit_diff("0" * 40).status is ToolStatus.ERROR


def test_revert_pull_request(repo: LocalGitRepo, manifest_repo: Path) -> None:
    path = "deploy/checkout/deployment.yaml"
    original = (manifest_repo / path).read_text()
    bad = commit_files(manifest_repo, {path: original.replace("checkout:1.14.2", "checkout:1.15.0")}, "bump")
    commit_files(manifest_repo, {"README.md": "later change\n"}, "docs")
    guard, seen = recording_guard(Verdict.ALLOW)
    opened = repo.open_revert_pull_request(bad, spec("revert-fp"), guard=guard, workload=CHECKOUT)
    assert opened.ok, opened.error
    assert seen[0].action == "revert" and seen[0].parameters["commit"] == bad
    pull = opened.data
    assert pull is not None and pull.head.startswith(f"paramedic/revert-{bad[:12]}")
    assert git(manifest_repo, "show", f"{pull.head}:{path}") == original
    assert git(manifest_repo, "show", f"{pull.head}:README.md") == "later change\n"
    assert git(manifest_repo, "log", "-1", "--format=%s", pull.head).strip() == 'Revert "bump"'
    assert repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT).ok
    assert git(manifest_repo, "show", f"main:{path}") == original


def test_revert_that_no_longer_applies_is_refused(repo: LocalGitRepo, manifest_repo: Path) -> None:
    path = "deploy/checkout/deployment.yaml"
    original = (manifest_repo / path).read_text()
    bad = commit_files(manifest_repo, {path: original.replace("checkout:1.14.2", "checkout:1.15.0")}, "bump")
    commit_files(manifest_repo, {path: original.replace("checkout:1.14.2", "checkout:1.16.0")}, "bump again")
    branches = git(manifest_repo, "branch", "--list")
    result = repo.open_revert_pull_request(bad, spec("fp-x"), guard=allow_all, workload=CHECKOUT)
    assert result.status is ToolStatus.ERROR and "no longer reverts cleanly" in (result.error or "")
    assert git(manifest_repo, "branch", "--list") == branches
    denied = repo.open_revert_pull_request(
        bad, spec("fp-y"), guard=recording_guard(Verdict.DENY)[0], workload=CHECKOUT
    )
    assert denied.status is ToolStatus.DENIED


def test_conflicting_merge_is_refused(repo: LocalGitRepo, manifest_repo: Path) -> None:
    location, pull = open_fix(repo)
    text = (manifest_repo / location.path).read_text().replace('memory: "256Mi"', 'memory: "300Mi"')
    commit_files(manifest_repo, {location.path: text}, "someone else fixed it")
    main_before = git(manifest_repo, "rev-parse", "main")
    result = repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT)
    assert result.status is ToolStatus.ERROR and "conflicts" in (result.error or "")
    assert location.path in (result.error or "")
    assert git(manifest_repo, "rev-parse", "main") == main_before


def test_comments_on_pull_requests(repo: LocalGitRepo) -> None:
    _, pull = open_fix(repo)
    assert repo.comment_on_issue(pull.number, "Diagnosis: OOMKilled").ok
    assert [c.body for c in repo.comments(pull.number)] == ["Diagnosis: OOMKilled"]
    assert "no issue or pull request #42" in (repo.comment_on_issue(42, "x").error or "")


def test_bare_repository(tmp_path: Path, manifest_repo: Path) -> None:
    bare = tmp_path / "bare.git"
    git(tmp_path, "clone", "-q", "--bare", str(manifest_repo), str(bare))
    repo = LocalGitRepo(bare)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("fix")
    assert repo.commit_manifest_patch(location, MEMORY_PATCH, branch="fix", message="m", guard=allow_all).ok
    pull = repo.open_pull_request(spec(), head="fix", guard=allow_all, workload=CHECKOUT).data
    assert pull is not None
    assert repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT).ok
    assert "512Mi" in git(bare, "show", f"main:{location.path}")


def test_a_workload_moved_by_a_new_commit_is_found_where_it_now_is(
    repo: LocalGitRepo, manifest_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Locations are remembered per commit sha: asking again at the same commit reads no file, and a
    # commit that moves the workload is a new sha, so the new file is found, never the remembered one.
    first = repo.find_manifest(CHECKOUT).data
    assert first is not None and first.path == "deploy/checkout/deployment.yaml"
    reads: list[str] = []
    read_many = repo._read_many
    monkeypatch.setattr(repo, "_read_many", lambda sha: reads.append(sha) or read_many(sha))
    assert repo.find_manifest(CHECKOUT).data == first and reads == []
    git(manifest_repo, "mv", "deploy/checkout/deployment.yaml", "deploy/checkout/moved.yaml")
    git(manifest_repo, "commit", "-q", "-m", "move checkout")
    moved = repo.find_manifest(CHECKOUT).data
    assert moved is not None and moved.path == "deploy/checkout/moved.yaml" and len(reads) == 1
