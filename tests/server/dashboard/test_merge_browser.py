"""Issue #21's scenario end to end in headless Chromium: `serve --sandbox` in autonomous mode with local
GitOps and no auto-merge, an OOM fault on web-api. After 90 s (simulated) there is one incident and one
run waiting on its pull request; an operator signs in, goes from the incident to its pull request,
reads the diff, clicks Merge, and the same run goes on to verification and ends healed, the workload
healthy again. Screenshots are saved under pytest's tmp dir and their paths printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.runstore import IncidentStatus, RunStatus
from tests.loopback import serve_app_on_loopback
from tests.server.dashboard.cdp import Browser
from tests.server.dashboard.test_browser import browser  # noqa: F401  (the fixture)
from tests.server.sandboxed import TOKEN, Served, served

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Served, str]]:
    """The sandboxed service, its app served by uvicorn on a loopback port."""
    with served(tmp_path) as running, serve_app_on_loopback(running.app, grace=1) as url:
        yield running, url


def test_an_operator_merges_the_waiting_pull_request_and_the_same_run_heals(
    live: tuple[Served, str],
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    running, base = live
    running.inject("oom", "web-api")
    waiting = running.wait_status(RunStatus.WAITING_MERGE)
    running.sim_wait(90)
    assert [(r.id, r.status) for r in running.runs()] == [(waiting.id, RunStatus.WAITING_MERGE)]
    [incident] = running.store.list_incidents().items
    assert incident.status is IncidentStatus.OPEN

    # Sign in, then the incidents list: one incident, one run.
    browser.goto(f"{base}/ui/login?next=/ui/incidents")
    browser.type_into("#login-token", TOKEN)
    browser.click("#login-submit")
    browser.wait_for("location.pathname === '/ui/incidents' && document.readyState === 'complete'")
    rows = "Array.from(document.querySelectorAll('tr.incident-row'))"
    assert browser.evaluate(f"{rows}.length") == 1
    assert browser.evaluate(f"{rows}[0].dataset.runs") == "1"
    listed = browser.screenshot(tmp_path / "incidents.png")

    # The incident's page: its run waits on pull request #1, a link to the dashboard's page.
    browser.click(f"#incident-{incident.id} a.incident-link")
    browser.wait_for(
        f"location.pathname === '/ui/incidents/{incident.id}' && document.readyState === 'complete'"
    )
    browser.wait_for("document.body.innerText.includes('waits for a human to merge its pull request')")
    assert browser.evaluate("document.querySelector('#incident-pulls a.pull-link').getAttribute('href')") == (
        "/ui/pulls/1"
    )
    browser.click("#incident-pulls a.pull-link")
    browser.wait_for("location.pathname === '/ui/pulls/1' && document.readyState === 'complete'")
    assert browser.evaluate("document.querySelector('#pull-state').innerText") == "open"
    assert "paramedic: oom in Deployment/web-api" in browser.evaluate(
        "document.querySelector('h1').innerText"
    )
    diff = browser.evaluate("document.querySelector('#pull-diff').innerText")
    assert "memory" in diff and any(line.startswith("+") for line in diff.splitlines()), diff
    assert "Root cause" in browser.evaluate("document.querySelector('#pull-text').innerText")
    assert browser.evaluate("document.querySelector('#merge-pr').disabled") is False
    pull_page = browser.screenshot(tmp_path / "pull.png")

    # Merge as alice.
    browser.type_into("#pull-by", "alice")
    browser.type_into("#pull-comment", "raise it")
    browser.click("#merge-pr")
    browser.wait_for("document.body.innerText.includes('Merged by alice')", what="the merge notice")
    assert browser.evaluate("document.querySelector('#pull-state').innerText") == "merged"

    # The same run verifies and ends healed; its page says so.
    healed = running.wait_status(RunStatus.HEALED, timeout=60)
    assert healed.id == waiting.id and len(running.runs()) == 1
    browser.goto(f"{base}/ui/runs/{waiting.id}")
    browser.wait_for("document.querySelector('.run-head').dataset.status === 'healed'", what="healed")
    assert browser.evaluate("document.querySelector('#merge-wait').dataset.status") == "merged"
    assert running.sb.healthy(), "the sandbox agrees web-api recovered"
    assert running.store.get_incident(incident.id).status is IncidentStatus.RESOLVED
    audit = running.store.audit_log(run_id=waiting.id)
    assert any(
        a.who == "alice" and a.action == "merge_pr" and a.details.get("via") == "dashboard" for a in audit
    )
    run_page = browser.screenshot(tmp_path / "run.png")
    assert browser.exceptions() == []
    for shot in (listed, pull_page, run_page):
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
