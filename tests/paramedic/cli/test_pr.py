"""`paramedic pr list|show|merge|close` against a running service (uvicorn on a loopback port): the
listing and the diff a human reads, a merge named in the audit log, refusals with exit 1, and exit 2
when no service answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from paramedic.cli.main import app
from tests.server.api.conftest import TOKEN, Api, Live, live  # noqa: F401  (the live fixture)
from tests.server.api.pulls import RUN, PullsApi, pulls_api
from tests.tools.gitops.conftest import manifest_repo  # noqa: F401  (fixture)

runner = CliRunner()


@pytest.fixture
def pulls(tmp_path: Path, manifest_repo: Path) -> Iterator[PullsApi]:  # noqa: F811
    yield from pulls_api(tmp_path / "service", manifest_repo, token=TOKEN)


@pytest.fixture
def api(pulls: PullsApi) -> Api:
    return pulls.api  # what `live` serves


def config_for(tmp_path: Path, base_url: str, token: str = TOKEN) -> Path:
    where = urlsplit(base_url)
    path = tmp_path / f"cli-{token}.yaml"
    path.write_text(f"server:\n  host: {where.hostname}\n  port: {where.port}\n  token: {token}\n")
    return path


def test_list_show_and_merge_a_pull_request(pulls: PullsApi, live: Live, tmp_path: Path) -> None:  # noqa: F811
    config = str(config_for(tmp_path, live.base_url))
    listed = runner.invoke(app, ["pr", "list", "--state", "open", "-c", config])
    assert listed.exit_code == 0, listed.output
    assert "#1" in listed.output and "open" in listed.output and "/ui/pulls/1" in listed.output
    assert f"run {RUN[:12]}" in listed.output
    shown = runner.invoke(app, ["pr", "show", "1", "-c", config])
    assert (
        shown.exit_code == 0
        and "OOMKilled" in shown.output
        and '+              memory: "512Mi"' in shown.output
    )
    merged = runner.invoke(app, ["pr", "merge", "1", "--by", "carol", "--comment", "ok", "-c", config])
    assert merged.exit_code == 0, merged.output
    assert "merged by carol" in merged.output and f"the run {RUN} goes on" in merged.output
    assert pulls.nudged == [RUN]
    [entry] = pulls.api.store.audit_log(run_id=RUN)
    assert (entry.who, entry.action, entry.details["via"]) == ("carol", "merge_pr", "api")


def test_refusals_exit_1_and_say_why(pulls: PullsApi, live: Live, tmp_path: Path) -> None:  # noqa: F811
    config = str(config_for(tmp_path, live.base_url))
    missing = runner.invoke(app, ["pr", "show", "7", "-c", config])
    assert missing.exit_code == 1 and "404" in missing.output
    wrong = str(config_for(tmp_path, live.base_url, token="not-the-token"))
    refused = runner.invoke(app, ["pr", "close", "1", "--by", "mallory", "-c", wrong])
    assert refused.exit_code == 1 and "401" in refused.output
    assert pulls.repo.get_pull_request(1).data.state == "open"  # type: ignore[union-attr]
    closed = runner.invoke(app, ["pr", "close", "1", "--by", "dan", "-c", config])
    assert closed.exit_code == 0 and "closed by dan" in closed.output
    twice = runner.invoke(app, ["pr", "close", "1", "--by", "dan", "-c", config])
    assert twice.exit_code == 1 and "409" in twice.output and "closed, not open" in twice.output


def test_no_service_exits_2(tmp_path: Path) -> None:
    config = str(config_for(tmp_path, "http://127.0.0.1:9"))
    result = runner.invoke(app, ["pr", "list", "-c", config])
    assert result.exit_code == 2 and "cannot reach paramedic serve" in result.output
