"""The dashboard's pages and fragments rendered by TestClient over a real SQLite store."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agent import trace
from agent.config import ServerSettings, Settings
from server.routes import dashboard as routes
from server.run_service import RunNotWaiting
from server.runstore import ConflictError, RunStatus
from tests.server.dashboard.conftest import (
    DIFF,
    TOKEN,
    Dashboard,
    analyst_steps,
    build,
    new_run,
    seed_healed,
    seed_waiting,
    write,
)

AUTH = {"Authorization": f"Bearer {TOKEN}"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
XSS = '<script>alert("pwned")</script>'


def test_front_page_is_the_runs_list(dash: Dashboard) -> None:
    response = dash.client.get("/", follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/runs"


def test_empty_list_says_so(dash: Dashboard) -> None:
    response = dash.client.get("/ui/runs")
    assert response.status_code == 200
    assert "No runs yet" in response.text
    # Nothing stored: follow the all-runs stream from the start.
    assert 'sse-connect="/api/v1/events?after=0&amp;inline=false"' in response.text


def test_list_shows_status_phase_confidence_and_score(dash: Dashboard) -> None:
    healed = seed_healed(dash.store)
    waiting = seed_waiting(dash.store)
    html = dash.client.get("/ui/runs").text
    rows = {
        m.group(1): m.group(0) for m in re.finditer(r'<tr class="run-row" id="run-(\w+)".*?</tr>', html, re.S)
    }
    assert set(rows) == {healed.id, waiting.id}
    assert 'tone-ok">Healthy<' in rows[healed.id] and 'tone-ok">healed<' in rows[healed.id]
    assert ">100%<" in rows[healed.id]  # the healing score verification stored
    assert 'tone-info">Healing<' in rows[waiting.id] and "waiting approval" in rows[waiting.id]
    assert ">92%<" in rows[waiting.id]  # the diagnosis confidence
    assert "pending" in rows[waiting.id]  # no score yet, and none invented
    assert f'href="/ui/runs/{waiting.id}"' in rows[waiting.id]
    # Newest first.
    assert html.index(waiting.id) < html.index(healed.id)


def test_list_follows_the_stream_from_the_latest_event(dash: Dashboard) -> None:
    seed_healed(dash.store)
    run = seed_waiting(dash.store)
    latest = dash.store.events(run.id, after_seq=run.last_seq - 1)[0].id
    html = dash.client.get("/ui/runs").text
    # Blobs not inlined: a message only triggers a re-fetch, its data is never read.
    assert f'sse-connect="/api/v1/events?after={latest}&amp;inline=false"' in html
    # Every trace event type re-fetches the rows; with a run active, a poll catches final statuses.
    trigger = re.search(r'id="runs-body" hx-get="/ui/runs/rows" hx-trigger="([^"]+)"', html)
    assert trigger is not None
    for kind in trace.TraceEventType:
        assert f"sse:{kind.value} delay:250ms" in trigger.group(1)
    assert 'class="poll" hx-get="/ui/runs/rows" hx-trigger="load delay:2s"' in html


def test_no_poll_when_every_run_is_final(dash: Dashboard) -> None:
    seed_healed(dash.store)
    assert 'class="poll"' not in dash.client.get("/ui/runs").text
    assert 'class="poll"' not in dash.client.get("/ui/runs/rows").text


def test_rows_fragment_is_just_the_rows(dash: Dashboard) -> None:
    run = seed_healed(dash.store)
    html = dash.client.get("/ui/runs/rows").text
    assert html.lstrip().startswith("<tr")
    assert f'id="run-{run.id}"' in html and "<html" not in html


def test_detail_timeline_reasoning_evidence_and_diff(dash: Dashboard) -> None:
    run = seed_healed(dash.store)
    html = dash.client.get(f"/ui/runs/{run.id}").text
    nodes = re.findall(r'<li class="step state-(\w+)" data-node="(\w+)">', html)
    assert nodes == [
        ("done", "analyst"),
        ("done", "decision"),
        ("done", "remediation"),
        ("done", "verification"),
    ]
    # Expandable reasoning: the prompt's messages, the model's answer, the rules matched.
    assert "message 1 · system" in html and "You are an SRE." in html
    assert "category: oom (rule oom.limit matched)" in html
    assert "rules_matched" in html and "oom.limit" in html
    assert html.count("<details") >= 4 + run.last_seq
    # Evidence: the diagnosis, the cited item highlighted.
    assert "The app container is OOMKilled at its 64Mi limit." in html
    assert '<tr class="cited"><td><code>status:checkout-1:app</code>' in html
    # The PR diff, line by line, and its link.
    assert '<span class="del">-            memory: 64Mi</span>' in html
    assert '<span class="add">+            memory: 256Mi</span>' in html
    assert 'href="https://git.example/acme/gitops/pull/7"' in html
    # A finished run opens no stream and shows no approval buttons.
    assert "sse-connect" not in html and 'id="approve"' not in html


def test_active_run_streams_its_events_from_where_the_page_is(dash: Dashboard) -> None:
    run = new_run(dash.store)
    write(dash.store, run.id, analyst_steps())
    run = dash.store.update_run(run.id, status=RunStatus.RUNNING)
    html = dash.client.get(f"/ui/runs/{run.id}").text
    assert (
        f'sse-connect="/api/v1/runs/{run.id}/events?after={run.last_seq}&amp;inline=false" sse-close="end"'
        in html
    )
    assert 'hx-trigger="sse:node_start delay:250ms' in html and ", sse:end" in html
    # The fallback poll is there while it runs.
    assert f'hx-get="/ui/runs/{run.id}/body" hx-trigger="load delay:2s"' in html


def test_stored_text_is_escaped_everywhere(dash: Dashboard) -> None:
    run = seed_healed(dash.store, log_line=XSS)
    dash.store.append_event(run.id, trace.note(run.id, XSS, XSS, {XSS: XSS}))
    dash.store.update_run(run.id, error=XSS)
    for path in (f"/ui/runs/{run.id}", f"/ui/runs/{run.id}/body", f"/ui/runs/{run.id}/timeline", "/ui/runs"):
        html = dash.client.get(path).text
        assert "<script>alert" not in html, path
    html = dash.client.get(f"/ui/runs/{run.id}").text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html


def test_templates_autoescape_whatever_their_name() -> None:
    assert (
        routes.render("_message.html", message="<b>x</b>")
        == '<span class="message">&lt;b&gt;x&lt;/b&gt;</span>'
    )
    assert routes._env.from_string("{{ v }}").render(v="<i>") == "&lt;i&gt;"


def test_waiting_run_shows_the_request_and_the_buttons(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    html = dash.client.get(f"/ui/runs/{run.id}").text
    assert "Waiting for approval" in html
    assert f'hx-post="/ui/runs/{run.id}/approve"' in html and f'hx-post="/ui/runs/{run.id}/reject"' in html
    assert "patch_resources" in html and "+            memory: 256Mi" in html
    assert 'data-token-required="true"' in html
    # No fallback poll while the operator may be typing into the form.
    assert 'hx-trigger="load delay' not in html


def test_approve_needs_the_token(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    stranger = TestClient(dash.app)  # no session cookie
    response = stranger.post(f"/ui/runs/{run.id}/approve", content="by=alice", headers=FORM)
    assert response.status_code == 401
    assert response.headers["HX-Retarget"] == "#approval-message"
    assert "operator token" in response.text
    wrong = stranger.post(
        f"/ui/runs/{run.id}/approve", content="by=alice", headers={**FORM, "Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert dash.launcher.answers == []
    assert dash.store.get_run(run.id).status is RunStatus.WAITING_APPROVAL


def test_a_signed_in_answer_must_come_from_the_dashboards_own_page(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    url = f"/ui/runs/{run.id}/reject"
    # The session cookie alone (no Origin, no htmx header): not the dashboard's own request.
    assert dash.client.post(url, content="by=bob", headers=FORM).status_code == 403
    forged = {**FORM, "Origin": "http://evil.example", "HX-Request": "true"}
    assert dash.client.post(url, content="by=bob", headers=forged).status_code == 403
    assert dash.launcher.answers == []
    own = {**FORM, "Origin": "http://testserver", "HX-Request": "true"}
    response = dash.client.post(url, content="by=bob", headers=own)
    assert response.status_code == 200 and "Rejected by bob" in response.text


def test_approve_resumes_the_run(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    response = dash.client.post(
        f"/ui/runs/{run.id}/approve", content="by=alice&comment=go+ahead", headers={**FORM, **AUTH}
    )
    assert response.status_code == 200
    assert "Approved by alice; the run is running." in response.text
    assert dash.launcher.answers == [(run.id, {"approved": True, "by": "alice", "comment": "go ahead"})]
    dash.launcher.join()
    assert dash.store.get_run(run.id).status is RunStatus.HEALED
    html = dash.client.get(f"/ui/runs/{run.id}").text
    assert "approval approved by alice" in html and DIFF.splitlines()[0] in html


def test_reject_then_answer_again_is_a_conflict(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    response = dash.client.post(f"/ui/runs/{run.id}/reject", content="by=bob", headers={**FORM, **AUTH})
    assert response.status_code == 200 and "Rejected by bob" in response.text
    assert dash.store.get_run(run.id).status is RunStatus.REJECTED
    again = dash.client.post(f"/ui/runs/{run.id}/approve", content="by=bob", headers={**FORM, **AUTH})
    assert again.status_code == 409
    assert "The run is rejected, not waiting for approval." in again.text
    assert [answer["approved"] for _, answer in dash.launcher.answers] == [False]


def test_answer_needs_a_name(dash: Dashboard) -> None:
    run = seed_waiting(dash.store)
    response = dash.client.post(
        f"/ui/runs/{run.id}/approve", content="by=+&comment=x", headers={**FORM, **AUTH}
    )
    assert response.status_code == 422 and "Say who you are" in response.text
    assert dash.launcher.answers == []


def test_unknown_run_is_404(dash: Dashboard) -> None:
    assert dash.client.get("/ui/runs/nope").status_code == 404
    assert dash.client.get("/ui/runs/nope/timeline").status_code == 404
    assert (
        dash.client.post("/ui/runs/nope/approve", content="by=a", headers={**FORM, **AUTH}).status_code == 404
    )


def test_without_a_launcher_nothing_can_be_answered(tmp_path: Path) -> None:
    built = build(tmp_path, launcher=False)
    try:
        run = seed_waiting(built.store)
        html = built.client.get(f"/ui/runs/{run.id}").text
        assert 'id="approve"' not in html and "runs no graph" in html
        response = built.client.post(f"/ui/runs/{run.id}/approve", content="by=a", headers={**FORM, **AUTH})
        assert response.status_code == 503
    finally:
        built.store.close()


def test_without_a_configured_token_the_buttons_work_as_they_are(tmp_path: Path) -> None:
    built = build(tmp_path, token=None)
    try:
        run = seed_waiting(built.store)
        assert 'data-token-required="false"' in built.client.get(f"/ui/runs/{run.id}").text
        response = built.client.post(f"/ui/runs/{run.id}/reject", content="by=a", headers=FORM)
        assert response.status_code == 200
    finally:
        built.store.close()


def test_reads_need_a_session_or_the_token(dash: Dashboard) -> None:
    run = seed_healed(dash.store)
    stranger = TestClient(dash.app)
    for path in ("/ui/runs", f"/ui/runs/{run.id}", "/"):
        page = stranger.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/ui/login?next=/"), path
        assert stranger.get(path, headers=AUTH).status_code == 200, path
        assert dash.client.get(path).status_code == 200, path  # signed in
    assert stranger.get("/ui/runs/rows").status_code == 401, "fragments answer 401, not a redirect"
    assert stranger.get("/api/v1/events").status_code == 401, "the SSE stream the pages follow too"


def test_protect_reads_off_opens_the_pages(dash: Dashboard) -> None:
    dash.context.settings = Settings(
        data_dir=dash.context.settings.data_dir,
        server=ServerSettings(token=TOKEN, protect_reads=False, allowed_hosts=["testserver"]),
    )
    run = seed_healed(dash.store)
    stranger = TestClient(dash.app)
    for path in ("/ui/runs", f"/ui/runs/{run.id}", "/ui/runs/rows"):
        assert stranger.get(path).status_code == 200, path
    html = stranger.get(f"/ui/runs/{run.id}").text
    assert 'data-signed-in="false"' in html and 'id="sign-in"' in html


@pytest.mark.parametrize(
    "name", ["htmx-2.0.11.min.js", "htmx-ext-sse-2.2.4.min.js"], ids=["htmx", "htmx-ext-sse"]
)
def test_vendored_files_are_served_and_match_their_record(dash: Dashboard, name: str) -> None:
    response = dash.client.get(f"/static/vendor/{name}")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    readme = (routes.STATIC_DIR / "vendor" / "README.md").read_text()
    assert hashlib.sha256(response.content).hexdigest() in readme
    assert dash.client.get("/static/../routes/dashboard.py").status_code == 404
    # The pages load exactly these files, from here.
    html = dash.client.get("/ui/runs").text
    assert f'<script src="/static/vendor/{name}"></script>' in html


@pytest.mark.parametrize("error", [ConflictError, RunNotWaiting], ids=["store", "run-service"])
def test_an_answer_that_loses_the_race_is_a_conflict(
    dash: Dashboard, monkeypatch: pytest.MonkeyPatch, error: type[Exception]
) -> None:
    run = seed_waiting(dash.store)

    def answered_meanwhile(run_id: str, answer: object) -> str:
        # Someone else answered between the page's read and this resume.
        dash.store.update_run(run_id, status=RunStatus.REJECTED)
        raise error(f"run {run_id} is not waiting")

    monkeypatch.setattr(dash.launcher, "answer", answered_meanwhile)
    response = dash.client.post(f"/ui/runs/{run.id}/approve", content="by=a", headers={**FORM, **AUTH})
    assert response.status_code == 409
    assert "Already answered: the run is rejected." in response.text
