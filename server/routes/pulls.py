"""The API router for pull requests: list, read (with body and diff), merge and close as a human.

Reads follow the read rule (server/auth); merging and closing need the token and go through
`server.pull_requests.PullRequestDesk`: the tools layer's guarded merge or close, an audit entry
naming the human on the run that opened the pull request, and a nudge to that run, so a run
waiting on it goes on at once. Only the local provider's pull requests are merged or closed here;
a GitHub pull request is merged on GitHub (its `link`), and the waiting run sees it there.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from server.auth import require_read_token
from server.context import Context, ServerContext
from server.pull_requests import DeskError, PullRequestDesk, PullRequestDetail, PullRequestView
from server.routes.params import UNAUTHORIZED, error, token_post

router = APIRouter(prefix="/pulls", tags=["pull requests"])
DESK_KEY = "pulls"  # context.extras: the PullRequestDesk, when a GitOps repository is configured
T = TypeVar("T")

Number = Annotated[int, Path(ge=1, le=2_147_483_647, description="The pull request's number.")]
NO_REPO = error(503, "No GitOps repository is configured.")
UNREADABLE = error(502, "The GitOps provider could not be read.")


class PullRequestList(BaseModel):
    """Pull requests, newest first."""

    items: list[PullRequestView]


class PullAnswer(BaseModel):
    """Who merges or closes a pull request, and why (both kept in the audit log)."""

    model_config = ConfigDict(extra="forbid")

    by: str = Field(min_length=1, max_length=200, pattern=r"\S", description="Who (kept in the audit log).")
    comment: str = Field(default="", max_length=2000)


def desk_of(context: ServerContext) -> PullRequestDesk:
    """The context's pull request desk, or 503 when no repository is configured."""
    desk = context.extras.get(DESK_KEY)
    if not isinstance(desk, PullRequestDesk):
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no GitOps repository is configured")
    return desk


async def on_desk(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A desk call off the event loop; its refusals become their HTTP status."""
    try:
        return await asyncio.to_thread(call, *args, **kwargs)
    except DeskError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc


@router.get(
    "",
    response_model=PullRequestList,
    responses={**UNAUTHORIZED, **NO_REPO, **UNREADABLE},
    dependencies=[Depends(require_read_token)],
    summary="List pull requests",
)
async def list_pulls(
    context: Context,
    state: Annotated[Literal["open", "all"], Query(description="Open ones, or all.")] = "all",
) -> PullRequestList:
    """The configured repository's pull requests, newest first, each with the run that opened it."""
    return PullRequestList(items=await on_desk(desk_of(context).list, state))


@router.get(
    "/{number}",
    response_model=PullRequestDetail,
    responses={**error(404, "No pull request has this number."), **UNAUTHORIZED, **NO_REPO, **UNREADABLE},
    dependencies=[Depends(require_read_token)],
    summary="One pull request, with its body and diff",
)
async def get_pull(number: Number, context: Context) -> PullRequestDetail:
    """Title, body, diff, state, who merged or closed it, and the run that opened it."""
    return await on_desk(desk_of(context).show, number)


_WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **error(403, "Refused by the remediation policy (the workload is out of scope)."),
    **error(404, "No pull request has this number."),
    **error(409, "Not open, not opened by a Paramedic run, or not a local pull request."),
    **error(422, "No name given."),
    **UNAUTHORIZED,
    **NO_REPO,
    **UNREADABLE,
}


# A human's answer on a pull request: both writes share their route's contract.
_answer_route = token_post(router, PullRequestView, _WRITE_RESPONSES)


@_answer_route("/{number}/merge", summary="Merge a pull request as a human")
async def merge_pull(
    number: Number, answer: Annotated[PullAnswer, Body()], context: Context
) -> PullRequestView:
    """Merge an open local pull request (guarded and audited); the run waiting on it goes on."""
    return await on_desk(desk_of(context).merge, number, by=answer.by, comment=answer.comment, via="api")


@_answer_route("/{number}/close", summary="Close a pull request unmerged as a human")
async def close_pull(
    number: Number, answer: Annotated[PullAnswer, Body()], context: Context
) -> PullRequestView:
    """Close an open local pull request (guarded and audited); the run waiting on it ends rejected."""
    return await on_desk(desk_of(context).close, number, by=answer.by, comment=answer.comment, via="api")
