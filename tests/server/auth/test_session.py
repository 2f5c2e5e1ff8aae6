"""The dashboard signs in with the token and gets a session cookie; the cookie's limits."""

from __future__ import annotations

import time
from pathlib import Path

from server.auth import session
from server.routes.login import safe_next
from tests.server.auth.conftest import LOCAL, TOKEN, MakeClient


def test_signing_in_sets_a_strict_http_only_cookie_that_opens_reads(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    assert client.get("/ui/runs", follow_redirects=False).headers["location"] == "/ui/login?next=/ui/runs"
    form = client.get("/ui/login?next=/ui/runs")
    assert form.status_code == 200 and 'name="token"' in form.text
    wrong = client.post("/ui/login", data={"token": "nope", "next": "/ui/runs"})
    assert wrong.status_code == 401 and "not the API token" in wrong.text
    assert session.COOKIE not in client.cookies
    ok = client.post("/ui/login", data={"token": TOKEN, "next": "/ui/runs"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/ui/runs"
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert TOKEN not in ok.headers["set-cookie"], "the cookie is a signature, not the token"
    assert client.get("/ui/runs").status_code == 200
    assert client.get("/api/v1/runs").status_code == 200, "the pages' API reads and SSE use it too"
    assert client.post("/api/v1/runs", json={"namespace": "shop", "name": "web"}).status_code == 401, (
        "the JSON API's writes take the bearer token only"
    )


def test_rotating_the_token_ends_every_session(make_client: MakeClient, token_file: Path) -> None:
    client = make_client(token_file=str(token_file))
    client.post("/ui/login", data={"token": TOKEN})
    assert client.get("/api/v1/runs").status_code == 200
    token_file.write_text("a-new-token\n")
    assert client.get("/api/v1/runs").status_code == 401


def test_sign_out_drops_the_session(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    client.post("/ui/login", data={"token": TOKEN})
    out = client.post("/ui/logout", headers={"Origin": LOCAL}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert client.get("/api/v1/runs").status_code == 401


def test_a_cross_site_login_is_refused(make_client: MakeClient) -> None:
    client = make_client(token=TOKEN)
    forged = client.post("/ui/login", data={"token": TOKEN}, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and session.COOKIE not in client.cookies


def test_login_with_a_broken_token_file_says_so(make_client: MakeClient, token_file: Path) -> None:
    client = make_client(token_file=str(token_file))
    token_file.unlink()
    response = client.post("/ui/login", data={"token": TOKEN})
    assert response.status_code == 503 and "is missing" in response.text


def test_without_a_token_there_is_nothing_to_sign_in_to(make_client: MakeClient) -> None:
    client = make_client()
    response = client.get("/ui/login?next=/ui/runs/r1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/ui/runs/r1"


def test_next_never_leaves_the_server() -> None:
    assert safe_next("/ui/runs/r1?x=1") == "/ui/runs/r1?x=1"
    hostile_targets = ("//evil.example/x", "https://evil.example", "/\\evil.example", "javascript:x", "")
    for hostile in (*hostile_targets, None):
        assert safe_next(hostile) == "/ui/runs", hostile


def test_a_session_expires_and_belongs_to_one_token() -> None:
    now = time.time()
    cookie = session.issue("t1", now)
    assert session.valid(cookie, "t1", now + 60)
    assert not session.valid(cookie, "t2", now + 60)
    assert not session.valid(cookie, "t1", now + session.MAX_AGE + 1)
    assert not session.valid(session.issue("t1", now + 3600), "t1", now), "issued in the future"
    for garbage in (None, "", "v1", "v1.x.y", "v0.1.abc", cookie + "0"):
        assert not session.valid(garbage, "t1", now), garbage
