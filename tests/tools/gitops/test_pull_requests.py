"""Reading, listing, diffing, merging (by a human) and closing pull requests, on both providers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools.gitops.conftest import allow_all, recording_guard
from tests.tools.gitops.fake_github import FakeGitHub
from tests.tools.gitops.test_github import MEMORY_PATCH as GH_PATCH
from tests.tools.gitops.test_github import provider
from tests.tools.gitops.test_github import spec as gh_spec
from tests.tools.gitops.test_local import CHECKOUT, open_fix
from tools.gitops.local import LocalGitRepo
from tools.guard import Verdict
from tools.result import ToolStatus


@pytest.fixture
def repo(manifest_repo: Path) -> LocalGitRepo:
    return LocalGitRepo(manifest_repo)


def test_local_pull_requests_are_listed_newest_first_with_their_diff(repo: LocalGitRepo) -> None:
    _, pull = open_fix(repo)
    listed = repo.list_pull_requests()
    assert listed.ok and [p.number for p in listed.data or []] == [pull.number]
    assert repo.list_pull_requests(state="open").data == listed.data
    diff = repo.pull_request_diff(pull.number)
    assert (
        diff.ok
        and "-              memory:" in (diff.data or "")
        and '+              memory: "512Mi"' in (diff.data or "")
    )
    assert not repo.list_pull_requests(state="merged").ok, "only open or all"


def test_a_human_merges_a_local_pull_request_and_is_named_on_it(repo: LocalGitRepo) -> None:
    _, pull = open_fix(repo)
    guard, calls = recording_guard(Verdict.ALLOW)
    merged = repo.merge_pull_request(pull.number, guard=guard, workload=CHECKOUT, by="alice")
    assert merged.ok and merged.data is not None
    assert merged.data.state == "merged" and merged.data.merged_by == "alice"
    assert [c.action for c in calls] == ["merge"]
    again = repo.get_pull_request(pull.number).data
    assert again is not None and again.merged_by == "alice" and again.merge_sha == merged.data.merge_sha
    # the diff of a merged pull request is what the merge brought in
    assert '+              memory: "512Mi"' in (repo.pull_request_diff(pull.number).data or "")


def test_closing_a_local_pull_request_is_guarded_commented_and_final(repo: LocalGitRepo) -> None:
    _, pull = open_fix(repo)
    guard, calls = recording_guard(Verdict.DENY)
    denied = repo.close_pull_request(pull.number, guard=guard, workload=CHECKOUT, by="bob")
    assert denied.status is ToolStatus.DENIED and repo.get_pull_request(pull.number).data.state == "open"  # type: ignore[union-attr]
    assert [c.action for c in calls] == ["close_pr"]
    closed = repo.close_pull_request(
        pull.number, guard=allow_all, workload=CHECKOUT, by="bob", comment="not this way"
    )
    assert closed.ok and closed.data is not None and closed.data.state == "closed"
    assert closed.data.closed_by == "bob"
    assert [c.body for c in repo.comments(pull.number)] == ["not this way"]
    assert repo.find_open_pull_request(pull.fingerprint or "").data is None
    again = repo.close_pull_request(pull.number, guard=allow_all, workload=CHECKOUT)
    assert not again.ok and "closed, not open" in (again.error or "")
    assert not repo.merge_pull_request(pull.number, guard=allow_all, workload=CHECKOUT).ok


def test_github_pull_requests_list_diff_and_close(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    assert repo.create_branch("fix").ok
    assert repo.commit_manifest_patch(location, GH_PATCH, branch="fix", message="m", guard=allow_all).ok
    pull = repo.open_pull_request(gh_spec(), head="fix", guard=allow_all, workload=CHECKOUT).data
    assert pull is not None and pull.url.startswith("https://")
    listed = repo.list_pull_requests()
    assert listed.ok and [p.number for p in listed.data or []] == [pull.number]
    diff = repo.pull_request_diff(pull.number)
    assert diff.ok and "512Mi" in (diff.data or ""), diff.error
    closed = repo.close_pull_request(pull.number, guard=allow_all, workload=CHECKOUT, by="carol")
    assert closed.ok and closed.data is not None and closed.data.state == "closed", closed.error
    assert closed.data.closed_by == "carol"
    assert fake_github.calls("PATCH", r"/pulls/\d+$")[0].body == {"state": "closed"}
    assert repo.get_pull_request(pull.number).data.state == "closed"  # type: ignore[union-attr]
