"""The dashboard in a real headless Chromium, against a live uvicorn server and a scripted launcher.

A run appears on the list page while it is being written and turns `healed` without a reload
(SSE-triggered re-fetches); the server asks for its token first (the sign-in page, a wrong token
refused), and on an approval-mode run's page clicking Approve hands the answer to the launcher,
after which the page follows the run to `healed`.
Screenshots are saved under pytest's tmp dir and their paths printed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.runstore import RunStatus
from tests import system_packages
from tests.server.dashboard.cdp import Browser
from tests.server.dashboard.conftest import (
    DIAGNOSIS,
    TOKEN,
    LiveServer,
    analyst_steps,
    approval_request,
    decision_steps,
    new_run,
    remediation_steps,
)

pytestmark = pytest.mark.integration

# Counts the SSE extension's messages, so the test can tell live updates from the fallback poll.
SSE_PROBE = """
window.__sse = {open: 0, messages: 0};
document.addEventListener('htmx:sseOpen', () => { window.__sse.open += 1; });
document.addEventListener('htmx:sseMessage', () => { window.__sse.messages += 1; });
"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """Headless chromium; missing chromium fails naming the package (`make test` installs it), never skips."""
    binary = system_packages.require("chromium")
    opened = Browser(binary, tmp_path / "chromium-profile")
    opened.add_init_script(SSE_PROBE)
    opened.send("Network.enable")  # to check that every request stays on the test server
    try:
        yield opened
    finally:
        opened.close()


def _row_status(run_id: str) -> str:
    # Parenthesised: callers append `=== '...'`, which binds tighter than `||`.
    return f"((document.getElementById('run-{run_id}') || {{dataset: {{}}}}).dataset.status || '')"


def test_runs_appear_live_and_an_approval_is_answered(
    live_dashboard: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    base = live_dashboard.base_url
    store = live_dashboard.dashboard.store
    launcher = live_dashboard.dashboard.launcher

    # 0. The server has a token (the pages send a browser here; test_pages checks the redirect):
    # sign in, a wrong token first.
    browser.goto(f"{base}/ui/login?next=/ui/runs")
    browser.type_into("#login-token", "not-the-token")
    browser.click("#login-submit")
    message = "(document.querySelector('#login-message') || {innerText: ''}).innerText"
    browser.wait_for(f"{message}.includes('not the API token')", what="the refusal")
    browser.type_into("#login-token", TOKEN)
    browser.click("#login-submit")
    on_runs = "location.pathname === '/ui/runs' && document.readyState === 'complete'"
    browser.wait_for(on_runs, what="the runs list, signed in")
    assert browser.evaluate("document.cookie") == "", "the session cookie is HttpOnly: no script reads it"

    # 1. The list page, before any run exists.
    browser.wait_for("document.body.innerText.includes('No runs yet')")
    browser.wait_for("window.__sse.open > 0", what="the list's SSE connection")

    # 2. A run starts and progresses while the page is open: it appears, then completes.
    run = new_run(store)
    launcher.play(
        run.id,
        [*analyst_steps(), *decision_steps(), *remediation_steps()],
        RunStatus.HEALED,
        diagnosis=DIAGNOSIS,
        verification={"healthy": True, "healing_score": 1.0},
    )
    seen = browser.wait_for(_row_status(run.id), timeout=15, what="the new run's row")
    assert seen in {"queued", "running", "healed"}
    browser.wait_for(f"{_row_status(run.id)} === 'healed'", timeout=20, what="the run to turn healed")
    assert browser.evaluate("window.__sse.messages") > 0, "the list updated without any SSE message"
    listed = browser.screenshot(tmp_path / "dashboard-runs.png")
    time.sleep(0.5)  # any refresh still in flight lands now: it must not bring back an older state
    assert browser.evaluate(_row_status(run.id)) == "healed"

    # 3. An approval-mode run stops at the interrupt; open its page from the list.
    waiting = new_run(store, mode="approve")
    launcher.play(
        waiting.id,
        [*analyst_steps(), *decision_steps(), *approval_request()],
        RunStatus.WAITING_APPROVAL,
        diagnosis=DIAGNOSIS,
    )
    browser.wait_for(f"{_row_status(waiting.id)} === 'waiting approval'", timeout=20)
    browser.click(f"#run-{waiting.id} a.run-link")
    browser.wait_for(f"location.pathname === '/ui/runs/{waiting.id}' && document.readyState === 'complete'")
    browser.wait_for("!!document.querySelector('#approve')", what="the approve button")
    # Signed in: the buttons are live (the session answers with the page's own same-origin request).
    assert browser.evaluate("document.querySelector('#approve').disabled") is False
    assert browser.evaluate("document.body.dataset.signedIn") == "true"
    browser.type_into("#approval-by", "alice")

    # 4. Expand a step, approve, and watch the run heal on the same page.
    browser.click("#step-1 > summary")
    browser.type_into("#approval-comment", "ship it")
    assert browser.evaluate("document.querySelector('#approval-by').value") == "alice"
    browser.click("#approve")
    deadline = time.monotonic() + 10
    while not launcher.answers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert launcher.answers == [(waiting.id, {"approved": True, "by": "alice", "comment": "ship it"})]
    browser.wait_for("document.body.innerText.includes('Approved by alice')", what="the notice")
    browser.wait_for(
        "document.querySelector('.run-head').dataset.status === 'healed'", timeout=20, what="healed"
    )
    steps = browser.evaluate("Array.from(document.querySelectorAll('li.step')).map(s => s.dataset.node)")
    assert steps == ["analyst", "decision", "approval", "remediation", "verification"]
    assert browser.evaluate("document.getElementById('step-1').open") is True, "re-render collapsed the step"
    assert "+            memory: 256Mi" in browser.evaluate("document.querySelector('pre.diff').innerText")
    assert store.get_run(waiting.id).status is RunStatus.HEALED

    detail = browser.screenshot(tmp_path / "dashboard-run.png")
    assert browser.exceptions() == []
    requested = {
        e["params"]["request"]["url"] for e in browser.events if e["method"] == "Network.requestWillBeSent"
    }
    assert f"{base}/static/vendor/htmx-2.0.11.min.js" in requested
    assert {url for url in requested if not url.startswith(base)} == set(), "a request left the server (CDN?)"
    for shot in (listed, detail):
        assert shot.stat().st_size > 10_000
        print(f"screenshot: {shot}")
    print(json.dumps({"sse": browser.evaluate("window.__sse")}))
