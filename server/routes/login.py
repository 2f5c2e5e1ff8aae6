"""Signing the dashboard in and out: the API token exchanged for a session cookie.

`GET /ui/login` shows a form for the token (where to find it: docs/security.md; `paramedic serve`
prints the file it is in). `POST /ui/login` checks it and sets the session cookie
(`server.auth.session`), then goes back to `next` (a path on this server only, never another
site). `POST /ui/logout` drops the cookie. A cross-site POST to either is refused (login CSRF).
With no token configured there is nothing to sign in to: the form sends the browser on.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.auth import api_auth, signed_in
from server.auth.guard import LOGIN_PATH
from server.auth.origin import cross_site
from server.auth.session import COOKIE, MAX_AGE, issue
from server.context import ServerContext, get_context
from server.routes.dashboard import MAX_FORM_BYTES, chrome, html_page

router = APIRouter(include_in_schema=False)
Context = Annotated[ServerContext, Depends(get_context)]
DEFAULT_NEXT = "/ui/runs"


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this server, else the runs list (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return DEFAULT_NEXT
    return target


def _page(
    context: ServerContext, request: Request, next_path: str, message: str = "", code: int = 200
) -> Response:
    return html_page("login.html", code, next=next_path, message=message, **chrome(context, request))


@router.get(LOGIN_PATH, response_class=HTMLResponse)
async def login_page(
    request: Request, context: Context, next: Annotated[str | None, Query()] = None
) -> Response:
    """The sign-in form (or straight on, when the server has no token to ask for)."""
    target = safe_next(next)
    if not api_auth(context).token.configured or signed_in(request, context):
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    return _page(context, request, target)


@router.post(LOGIN_PATH, response_class=HTMLResponse)
async def login(request: Request, context: Context) -> Response:
    """Check the token from the form; on success set the session cookie and go on."""
    body = await request.body()
    fields = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", errors="replace"), keep_blank_values=True)
    target = safe_next(nexts[-1] if (nexts := fields.get("next")) else None)
    if cross_site(request.headers) is not None:
        return _page(context, request, target, "Refused: this form was sent from another site.", 403)
    auth = api_auth(context)
    if not auth.token.configured:
        return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    state = await asyncio.to_thread(auth.token.current)
    if state.value is None:
        return _page(context, request, target, f"The server cannot check tokens now: {state.problem}.", 503)
    given = (fields.get("token") or [""])[-1].strip()
    if not given or not hmac.compare_digest(given.encode(), state.value.encode()):
        return _page(context, request, target, "That is not the API token.", 401)
    response = RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        COOKIE,
        issue(state.value),
        max_age=MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/ui/logout")
async def logout(request: Request) -> Response:
    """Drop the session cookie."""
    if cross_site(request.headers) is not None:
        return HTMLResponse("Refused: this form was sent from another site.", status_code=403)
    response = RedirectResponse(LOGIN_PATH, status_code=status.HTTP_303_SEE_OTHER)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
