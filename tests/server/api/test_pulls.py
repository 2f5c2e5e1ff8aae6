"""/api/v1/pulls and the dashboard's pull request pages: reading needs what reading runs needs;
merging and closing need the token (API) or a signed-in same-origin request (dashboard), name the
human in the audit log, and wake the run that waits on the pull request. A GitHub pull request
links its web page and is merged on GitHub, not here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.pull_requests import PullRequestDesk
from server.runstore import RunStore, open_run_store
from tests.server.api.conftest import AUTH, TOKEN
from tests.server.api.pulls import RUN, PullsApi, pulls_api
from tests.tools.gitops.conftest import allow_all, fake_github, manifest_repo  # noqa: F401  (fixtures)
from tests.tools.gitops.fake_github import FakeGitHub
from tests.tools.gitops.test_github import MEMORY_PATCH, provider, spec
from tests.tools.gitops.test_local import CHECKOUT

BY = {"by": "alice", "comment": "ship it"}


@pytest.fixture
def pulls(tmp_path: Path, manifest_repo: Path) -> Iterator[PullsApi]:  # noqa: F811
    yield from pulls_api(tmp_path, manifest_repo, token=TOKEN)


def test_pull_requests_are_listed_and_shown_with_body_diff_and_run(pulls: PullsApi) -> None:
    client = pulls.api.client
    assert client.get("/api/v1/pulls").status_code == 401, "reads follow the read rule"
    listed = client.get("/api/v1/pulls", headers=AUTH)
    assert listed.status_code == 200
    [item] = listed.json()["items"]
    assert (item["number"], item["state"], item["run_id"], item["link"]) == (1, "open", RUN, "/ui/pulls/1")
    assert item["target"] == "shop/Deployment/checkout" or "checkout" in item["target"]
    shown = client.get("/api/v1/pulls/1", headers=AUTH).json()
    assert "OOMKilled" in shown["body"] and '+              memory: "512Mi"' in shown["diff"]
    assert client.get("/api/v1/pulls/9", headers=AUTH).status_code == 404
    assert client.get("/api/v1/pulls?state=open", headers=AUTH).json()["items"] == [item]


def test_merging_needs_the_token_names_the_human_and_wakes_the_waiting_run(pulls: PullsApi) -> None:
    client = pulls.api.client
    assert client.post("/api/v1/pulls/1/merge", json=BY).status_code == 401
    assert (
        client.post("/api/v1/pulls/1/merge", json=BY, headers={"Authorization": "Bearer no"}).status_code
        == 401
    )
    assert client.post("/api/v1/pulls/1/merge", json={"by": " "}, headers=AUTH).status_code == 422
    assert pulls.repo.get_pull_request(1).data.state == "open"  # type: ignore[union-attr]
    merged = client.post("/api/v1/pulls/1/merge", json=BY, headers=AUTH)
    assert merged.status_code == 200 and merged.json()["state"] == "merged"
    assert merged.json()["merged_by"] == "alice" and pulls.nudged == [RUN]
    [entry] = pulls.api.store.audit_log(run_id=RUN)
    assert (entry.who, entry.action, entry.details["via"]) == ("alice", "merge_pr", "api")
    again = client.post("/api/v1/pulls/1/close", json=BY, headers=AUTH)
    assert again.status_code == 409 and "merged, not open" in again.json()["detail"]


def test_closing_from_the_dashboard_needs_the_token_and_refuses_other_sites(pulls: PullsApi) -> None:
    client = pulls.api.client
    form = {"by": "bob", "comment": "by hand"}
    assert client.get("/ui/pulls/1", follow_redirects=False).status_code in (303, 401), "pages need a sign-in"
    refused = client.post("/ui/pulls/1/close", data=form, headers={"HX-Request": "true"})
    assert refused.status_code == 401 and pulls.repo.get_pull_request(1).data.state == "open"  # type: ignore[union-attr]
    cross = {**AUTH, "HX-Request": "true", "Origin": "http://evil.example"}
    assert client.post("/ui/pulls/1/close", data=form, headers=cross).status_code == 403
    page = client.get("/ui/pulls/1", headers=AUTH)
    assert page.status_code == 200 and 'id="merge-pr"' in page.text and 'id="close-pr"' in page.text
    closed = client.post("/ui/pulls/1/close", data=form, headers={**AUTH, "HX-Request": "true"})
    assert closed.status_code == 200 and "Closed by bob" in closed.text
    assert pulls.repo.get_pull_request(1).data.closed_by == "bob"  # type: ignore[union-attr]
    assert [(a.who, a.action, a.details["via"]) for a in pulls.api.store.audit_log(run_id=RUN)] == [
        ("bob", "close_pr", "dashboard")
    ]
    assert 'id="merge-pr"' not in client.get("/ui/pulls/1", headers=AUTH).text, "no buttons once closed"


def test_without_a_repository_the_pulls_api_says_so(tmp_path: Path) -> None:
    from tests.server.api.conftest import make_api

    for api in make_api(tmp_path, token=TOKEN):
        assert api.client.get("/api/v1/pulls", headers=AUTH).status_code == 503
        assert api.client.post("/api/v1/pulls/1/merge", json=BY, headers=AUTH).status_code == 503


def test_a_github_pull_request_links_its_web_page_and_is_merged_there(
    fake_github: FakeGitHub,  # noqa: F811
    tmp_path: Path,
) -> None:
    from agent.config import Settings
    from tools.gitops.records import Workload

    repo = provider(fake_github)
    location = repo.find_manifest(Workload("Deployment", "checkout", "shop")).data
    assert location is not None and repo.create_branch("fix").ok
    assert repo.commit_manifest_patch(location, MEMORY_PATCH, branch="fix", message="m", guard=allow_all).ok
    pull = repo.open_pull_request(spec(), head="fix", guard=allow_all, workload=CHECKOUT).data
    assert pull is not None
    store: RunStore = open_run_store(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        desk = PullRequestDesk(repo, store, Settings(data_dir=tmp_path))
        [view] = desk.list()
        assert view.provider == "github" and view.link == pull.url and view.link.startswith("http")
        assert not desk.can_write
        with pytest.raises(Exception, match="on their own page"):
            desk.merge(pull.number, by="alice")
    finally:
        store.close()
