"""The dashboard's pull request pages: the list, one pull request (title, body, diff, the run that
opened it) and, for the local provider, its Merge and Close buttons.

The buttons post to `/ui/pulls/{number}/merge` and `/close` with the bearer token or the signed-in
session (only from a same-origin htmx request: server/auth), and go through
`server.pull_requests.PullRequestDesk`: the guarded tool, an audit entry naming who, and a nudge to
the run waiting on it. A GitHub pull request links its page on GitHub, where people merge it.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request, status
from fastapi.responses import HTMLResponse, Response

from server.auth import Access, authorize, require_page_reader, require_read_token
from server.auth.guard import Credentials
from server.context import Context, ServerContext
from server.pull_requests import DeskError, PullRequestDesk, PullRequestDetail
from server.routes.dashboard import POLL_SECONDS, chrome, form_fields, html_page, refusal
from server.routes.pulls import DESK_KEY

router = APIRouter(include_in_schema=False)
Number = Annotated[int, Path(ge=1, le=2_147_483_647)]
MESSAGE = "#pull-message"


def _desk(context: ServerContext) -> PullRequestDesk | None:
    desk = context.extras.get(DESK_KEY)
    return desk if isinstance(desk, PullRequestDesk) else None


async def _show(desk: PullRequestDesk, number: int) -> PullRequestDetail:
    try:
        return await asyncio.to_thread(desk.show, number)
    except DeskError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc


def _page_values(
    context: ServerContext, request: Request, desk: PullRequestDesk, pull: PullRequestDetail, notice: str = ""
) -> dict[str, Any]:
    return {
        **chrome(context, request),
        "pull": pull,
        "can_write": desk.can_write and pull.state == "open" and pull.run_id is not None,
        "local": desk.can_write,
        "notice": notice,
        "poll": POLL_SECONDS,
    }


@router.get("/ui/pulls", response_class=HTMLResponse, dependencies=[Depends(require_page_reader)])
async def pulls_page(request: Request, context: Context) -> Response:
    """Every pull request of the configured repository, newest first, with the run that opened it."""
    desk = _desk(context)
    pulls, problem = [], ""
    if desk is None:
        problem = "No GitOps repository is configured: Paramedic opens no pull requests."
    else:
        try:
            pulls = await asyncio.to_thread(desk.list)
        except DeskError as exc:
            problem = str(exc)
    return html_page("pulls.html", pulls=pulls, problem=problem, **chrome(context, request))


@router.get("/ui/pulls/{number}", response_class=HTMLResponse, dependencies=[Depends(require_page_reader)])
async def pull_page(number: Number, request: Request, context: Context) -> Response:
    """One pull request: what it says, what it changes, and (local, open) Merge and Close."""
    return html_page("pull.html", **await _pull_values(context, request, number))


@router.get(
    "/ui/pulls/{number}/body", response_class=HTMLResponse, dependencies=[Depends(require_read_token)]
)
async def pull_body(number: Number, request: Request, context: Context) -> Response:
    """The pull request page's body, re-fetched after an answer."""
    return html_page("_pull_body.html", **await _pull_values(context, request, number))


async def _pull_values(context: ServerContext, request: Request, number: int) -> dict[str, Any]:
    """What the pull request page and its body show; 404 without a GitOps repository."""
    desk = _desk(context)
    if desk is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no GitOps repository is configured")
    pull = await _show(desk, number)
    return _page_values(context, request, desk, pull)


async def _answer(
    request: Request, context: ServerContext, credentials: Credentials, number: int, verb: str
) -> Response:
    try:
        await asyncio.to_thread(authorize, request, context, credentials, Access.DASHBOARD_WRITE)
    except HTTPException as exc:
        message = "A valid operator token is required: sign in (the session may have ended)."
        return refusal(message if exc.status_code == 401 else str(exc.detail), exc.status_code, MESSAGE)
    desk = _desk(context)
    if desk is None:
        return refusal("No GitOps repository is configured.", status.HTTP_503_SERVICE_UNAVAILABLE, MESSAGE)
    form = await form_fields(request)
    by, comment = form.get("by", "").strip()[:200], form.get("comment", "").strip()[:2000]
    if not by:
        return refusal(
            "Say who you are (the audit trail keeps it).", status.HTTP_422_UNPROCESSABLE_CONTENT, MESSAGE
        )
    act = desk.merge if verb == "merge" else desk.close
    try:
        done = await asyncio.to_thread(act, number, by=by, comment=comment, via="dashboard")
    except DeskError as exc:
        return refusal(str(exc), exc.status, MESSAGE)
    pull = await _show(desk, number)
    after = f"the run {done.run_id[:12]} goes on" if done.run_id else "no run waits on it"
    notice = f"{'Merged' if verb == 'merge' else 'Closed'} by {by}; {after}."
    return html_page("_pull_body.html", **_page_values(context, request, desk, pull, notice))


@router.post("/ui/pulls/{number}/merge", response_class=HTMLResponse)
async def merge(number: Number, request: Request, context: Context, credentials: Credentials) -> Response:
    """The Merge button (form fields `by`, `comment`)."""
    return await _answer(request, context, credentials, number, "merge")


@router.post("/ui/pulls/{number}/close", response_class=HTMLResponse)
async def close(number: Number, request: Request, context: Context, credentials: Credentials) -> Response:
    """The Close button (form fields `by`, `comment`)."""
    return await _answer(request, context, credentials, number, "close")
