"""The GitHub provider through the real PyGithub client against a local fake GitHub server."""

from __future__ import annotations

import base64
import subprocess
from datetime import UTC, datetime

import pytest
import yaml

from tests.tools.gitops.conftest import (
    CHECKOUT,
    MEMORY_PATCH,
    allow_all,
    raise_checkout_memory,
    recording_guard,
)
from tests.tools.gitops.fake_github import FakeGitHub
from tools.gitops.github import GitHubRepo
from tools.gitops.records import PullRequestSpec
from tools.guard import FieldAllowListGuard, Verdict
from tools.result import RetryPolicy, ToolCallEvent, ToolStatus

FAST = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)


def spec(fingerprint: str = "fp0123456789abcd") -> PullRequestSpec:
    return PullRequestSpec(
        title="checkout: raise memory limit to 512Mi",
        root_cause="OOMKilled at the 256Mi limit",
        fingerprint=fingerprint,
        evidence=("4 OOMKills in 10 minutes",),
        labels=("paramedic",),
    )


def provider(fake: FakeGitHub, events: list[ToolCallEvent] | None = None, **kwargs: object) -> GitHubRepo:
    sink = events.append if events is not None else (lambda _: None)
    return GitHubRepo(
        fake.full_name,
        token=fake.token,
        base_url=fake.base_url,
        sink=sink,
        retry=FAST,
        throttle=False,
        **kwargs,  # type: ignore[arg-type]
    )


def remote_show(fake: FakeGitHub, spec_: str) -> str:
    return fake.git("show", spec_)


def test_constructor_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="owner/name"):
        GitHubRepo("just-a-name", token=None)
    with pytest.raises(ValueError, match="http"):
        GitHubRepo("a/b", token=None, base_url="ftp://x")


def test_find_manifest_reads_tree_then_conventional_files(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    result = repo.find_manifest(CHECKOUT)
    assert result.ok, result.error
    assert result.data is not None and result.data.path == "deploy/checkout/deployment.yaml"
    tree_calls = fake_github.calls("GET", r"/git/trees/")
    assert tree_calls and tree_calls[0].query == {"recursive": "1"}
    read = [c.path for c in fake_github.calls("GET", r"/contents/")]
    assert "/repos/acme/shop-gitops/contents/charts/shop/templates/deployment.yaml" not in read
    assert all(c.headers.get("Authorization") == "token test-token" for c in fake_github.requests)


def test_end_to_end_branch_commit_pull_and_auto_merge(fake_github: FakeGitHub) -> None:
    events: list[ToolCallEvent] = []
    repo = provider(fake_github, events, auto_merge=True)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    assert repo.create_branch("paramedic/oom-checkout").ok
    assert fake_github.calls("POST", r"/git/refs$")[0].body["ref"] == "refs/heads/paramedic/oom-checkout"

    committed = raise_checkout_memory(repo, location)
    assert committed.ok, committed.error
    put = fake_github.calls("PUT", r"/contents/deploy/checkout/deployment.yaml$")[0]
    assert put.body["branch"] == "paramedic/oom-checkout" and put.body["message"] == "Raise memory"
    sent = base64.b64decode(put.body["content"]).decode()
    assert '              memory: "512Mi"   # OOMs above ~240Mi under load' in sent
    assert sent.startswith("# Checkout service")
    assert committed.data is not None
    assert remote_show(fake_github, f"{committed.data.sha}:{location.path}") == sent

    opened = repo.open_pull_request(spec(), head="paramedic/oom-checkout", guard=allow_all, workload=CHECKOUT)
    assert opened.ok, opened.error
    created = fake_github.calls("POST", r"/pulls$")[0].body
    assert created["head"] == "paramedic/oom-checkout" and created["base"] == "main"
    assert "<!-- paramedic-fingerprint: fp0123456789abcd -->" in created["body"]
    labels = fake_github.calls("POST", r"/issues/1/labels$")[0].body
    assert labels == ["paramedic", "paramedic-fp:fp0123456789abcd"]
    assert opened.data is not None and opened.data.url.endswith("/acme/shop-gitops/pull/1")

    found = repo.find_open_pull_request("fp0123456789abcd")
    assert found.data is not None and found.data.number == 1
    duplicate = repo.open_pull_request(
        spec(), head="paramedic/oom-checkout", guard=allow_all, workload=CHECKOUT
    )
    assert duplicate.status is ToolStatus.ERROR and "already open" in (duplicate.error or "")
    assert len(fake_github.calls("POST", r"/pulls$")) == 1

    merged = repo.merge_pull_request(1, guard=allow_all, workload=CHECKOUT)
    assert merged.ok, merged.error
    merge_call = fake_github.calls("PUT", r"/pulls/1/merge$")[0].body
    assert merge_call["merge_method"] == "merge"
    assert merged.data is not None and merged.data.state == "merged"
    main = yaml.safe_load_all(remote_show(fake_github, f"main:{location.path}")).__next__()
    assert main["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "512Mi"
    assert [e.tool for e in events][-1] == "gitops.merge_pull_request"
    assert all(e.arguments["provider"] == "github" for e in events)


def test_merge_is_refused_without_auto_merge(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("fix")
    repo.commit_manifest_patch(location, MEMORY_PATCH, branch="fix", message="m", guard=allow_all)
    assert repo.open_pull_request(spec(), head="fix", guard=allow_all, workload=CHECKOUT).ok
    result = repo.merge_pull_request(1, guard=allow_all, workload=CHECKOUT)
    assert result.status is ToolStatus.DENIED and "auto-merge is disabled" in (result.error or "")
    assert fake_github.calls("PUT", r"/merge$") == []


def test_guard_refusals_send_no_writes(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github, auto_merge=True)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("fix")
    image = {"spec": {"template": {"spec": {"containers": [{"name": "checkout", "image": "x:latest"}]}}}}
    denied = repo.commit_manifest_patch(
        location, image, branch="fix", message="m", guard=FieldAllowListGuard()
    )
    assert denied.status is ToolStatus.DENIED
    guard, seen = recording_guard(Verdict.NEEDS_APPROVAL)
    assert repo.open_pull_request(spec(), head="fix", guard=guard, workload=CHECKOUT).status is (
        ToolStatus.NEEDS_APPROVAL
    )
    assert seen[0].action == "open_pr"
    reverted = repo.open_revert_pull_request(
        "a" * 40, spec(), guard=recording_guard(Verdict.DENY)[0], workload=CHECKOUT
    )
    assert reverted.status is ToolStatus.DENIED
    writes = [r for r in fake_github.requests if r.method != "GET"]
    assert [(w.method, w.path) for w in writes] == [("POST", "/repos/acme/shop-gitops/git/refs")]


def test_recent_commits_and_diff(fake_github: FakeGitHub, manifest_repo) -> None:  # type: ignore[no-untyped-def]
    repo = provider(fake_github)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("bump")
    image = {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "checkout", "image": "ghcr.io/acme/checkout:1.15.0"}]}
            }
        }
    }
    sha = repo.commit_manifest_patch(
        location, image, branch="bump", message="checkout: bump to 1.15.0", guard=allow_all, action="rollback"
    ).data.sha  # type: ignore[union-attr]
    commits = repo.recent_commits(workload=CHECKOUT, ref="bump", since=datetime(2024, 1, 1, tzinfo=UTC))
    assert commits.ok, commits.error
    assert [c.title for c in commits.data or []] == ["checkout: bump to 1.15.0", "Initial manifests"]
    newest = (commits.data or [])[0]
    assert newest.sha == sha and newest.files == ("deploy/checkout/deployment.yaml",)
    listed = fake_github.calls("GET", r"/commits$")[0].query
    assert listed["path"] == "deploy/checkout/deployment.yaml" and listed["sha"] == "bump"
    assert listed["since"] == "2024-01-01T00:00:00Z"
    diff = repo.commit_diff(sha)
    assert diff.ok, diff.error
    assert diff.data is not None and diff.data.files[0].status == "modified"
    assert '+          image: "ghcr.io/acme/checkout:1.15.0"' in diff.data.files[0].patch


def test_revert_pull_request_restores_the_parent_version(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github, auto_merge=True)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    original = remote_show(fake_github, f"main:{location.path}")
    # A bad change lands on main (through a merged PR), then the revert is proposed.
    repo.create_branch("bad")
    bad_sha = repo.commit_manifest_patch(
        location, {"spec": {"replicas": 0}}, branch="bad", message="scale to zero", guard=allow_all
    ).data.sha  # type: ignore[union-attr]
    repo.open_pull_request(spec("bad-change"), head="bad", guard=allow_all, workload=CHECKOUT)
    assert repo.merge_pull_request(1, guard=allow_all, workload=CHECKOUT).ok
    opened = repo.open_revert_pull_request(bad_sha, spec("revert-fp"), guard=allow_all, workload=CHECKOUT)
    assert opened.ok, opened.error
    assert opened.data is not None and opened.data.head.startswith(f"paramedic/revert-{bad_sha[:12]}")
    tree_body = fake_github.calls("POST", r"/git/trees$")[0].body
    assert [e["path"] for e in tree_body["tree"]] == [location.path]
    assert remote_show(fake_github, f"{opened.data.head}:{location.path}") == original
    message = fake_github.calls("POST", r"/git/commits$")[0].body["message"]
    assert message.startswith('Revert "scale to zero"') and bad_sha in message


def test_revert_refused_when_file_changed_since(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.create_branch("work")
    first = repo.commit_manifest_patch(
        location, {"spec": {"replicas": 5}}, branch="work", message="a", guard=allow_all
    )
    repo.commit_manifest_patch(
        location, {"spec": {"replicas": 6}}, branch="work", message="b", guard=allow_all
    )
    result = repo.open_revert_pull_request(
        first.data.sha,
        spec(),
        guard=allow_all,
        workload=CHECKOUT,
        base="work",  # type: ignore[union-attr]
    )
    assert result.status is ToolStatus.ERROR and "no longer reverts cleanly" in (result.error or "")
    assert fake_github.calls("POST", r"/git/(trees|commits)$") == []


def test_comment_on_issue(fake_github: FakeGitHub) -> None:
    number = fake_github.add_issue("checkout keeps crashing")
    repo = provider(fake_github)
    result = repo.comment_on_issue(number, "Diagnosis: OOMKilled (confidence 0.9)")
    assert result.ok, result.error
    assert fake_github.comments[0]["body"] == "Diagnosis: OOMKilled (confidence 0.9)"
    assert result.data is not None and result.data.url.endswith(
        f"/issues/{number}#issuecomment-{result.data.id}"
    )
    missing = repo.comment_on_issue(99, "x")
    assert missing.status is ToolStatus.ERROR and "not found" in (missing.error or "")


def test_transient_errors_are_retried(fake_github: FakeGitHub) -> None:
    events: list[ToolCallEvent] = []
    repo = provider(fake_github, events)
    fake_github.fail("GET", r"/contents/README.md$", 502, count=2)
    result = repo.read_file("README.md")
    assert result.ok, result.error
    assert result.data == "# shop manifests\n"
    assert len(fake_github.calls("GET", r"/contents/README.md$")) == 3
    assert len(events) == 1 and events[0].status is ToolStatus.OK


def test_rate_limit_is_retried_then_reported(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    fake_github.fail(
        "GET",
        r"/contents/README.md$",
        403,
        count=5,
        headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1"},
        body={"message": "API rate limit exceeded for installation."},
    )
    result = repo.read_file("README.md")
    assert result.status is ToolStatus.ERROR and "rate limit" in (result.error or "")
    assert len(fake_github.calls("GET", r"/contents/README.md$")) == FAST.attempts


def test_not_found_and_bad_credentials_are_not_retried(fake_github: FakeGitHub) -> None:
    repo = provider(fake_github)
    missing = repo.read_file("nope.yaml")
    assert missing.status is ToolStatus.ERROR and "not found" in (missing.error or "")
    assert len(fake_github.calls("GET", r"/contents/nope.yaml$")) == 1
    bad = GitHubRepo(
        fake_github.full_name, token="wrong", base_url=fake_github.base_url, retry=FAST, throttle=False
    )
    denied = bad.read_file("README.md")
    assert denied.status is ToolStatus.UNAVAILABLE and "credentials" in (denied.error or "")


def test_unreachable_server_is_unavailable(refused_url: str) -> None:
    repo = GitHubRepo("a/b", token="t", base_url=f"{refused_url}/api/v3", retry=FAST, throttle=False)
    result = repo.read_file("x")
    assert result.status is ToolStatus.UNAVAILABLE and "cannot reach GitHub" in (result.error or "")


def test_git_clone_of_fake_is_consistent(fake_github: FakeGitHub) -> None:
    # Sanity: the fake's repository is a real git repository the provider's writes keep valid.
    repo = provider(fake_github)
    repo.create_branch("x")
    location = repo.find_manifest(CHECKOUT).data
    assert location is not None
    repo.commit_manifest_patch(location, MEMORY_PATCH, branch="x", message="m", guard=allow_all)
    subprocess.run(
        ["git", "--git-dir", str(fake_github.git_dir), "fsck", "--strict"], check=True, capture_output=True
    )
