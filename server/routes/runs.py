"""The API router for runs: trigger, list, detail, trace, approve/reject.

Approving or rejecting is idempotent: only a run in `waiting_approval` is resumed; answering
any other run (already answered, finished, or never asking) changes nothing and answers 409
with the run's current status, so a double click or a retried request never resumes twice.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, status
from fastapi.responses import JSONResponse

from agent.domain import Incident, Trigger, WorkloadRef
from server.auth import require_read_token, require_token
from server.context import Context, RunLauncher, ServerContext
from server.routes.params import UNAUTHORIZED, Cursor, Limit, RunId, error, from_store, token_post
from server.run_service import RunNotWaiting
from server.runstore import ConflictError, RunPage, RunRecord, RunStatus, UnknownRunError
from server.schemas import (
    AnswerConflict,
    AnswerRequest,
    AnswerResponse,
    RunTrace,
    TriggerRequest,
    TriggerResponse,
)

router = APIRouter(prefix="/runs", tags=["runs"])

NOT_FOUND = error(404, "No run has this id.")
BAD_REQUEST = error(400, "A filter or cursor the store cannot use.")
NO_LAUNCHER = error(503, "This server runs no healing runs (read-only).")


def _launcher(context: ServerContext) -> RunLauncher:
    if context.runs is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail="this server was started without a run launcher: it serves stored runs but cannot start "
            "or resume any (start it with `paramedic serve`)",
        )
    return context.runs


async def load_run(context: ServerContext, run_id: str) -> RunRecord:
    """The stored run, or 404 (shared with the SSE routes)."""
    return await from_store(context.store.get_run, run_id)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=TriggerResponse,
    responses={**UNAUTHORIZED, **NO_LAUNCHER},
    dependencies=[Depends(require_token)],
    summary="Trigger a run by hand",
)
async def trigger_run(request: TriggerRequest, context: Context) -> TriggerResponse:
    """Open a manual incident for the workload and hand it to the run launcher (202: it runs later)."""
    launcher = _launcher(context)
    target = WorkloadRef(namespace=request.namespace, kind=request.kind, name=request.name)
    incident = Incident.new(
        target, Trigger.MANUAL, request.reason, summary=request.summary or f"manual trigger for {target}"
    )
    run_id, new = await asyncio.to_thread(launcher.submit, incident)
    # Read the run back: a folded trigger belongs to the incident already open, not to ours.
    run = await load_run(context, run_id)
    return TriggerResponse(
        run_id=run_id, incident_id=run.incident_id, new=new, status=run.status, url=f"/api/v1/runs/{run_id}"
    )


@router.get(
    "",
    response_model=RunPage,
    responses={**BAD_REQUEST, **UNAUTHORIZED},
    dependencies=[Depends(require_read_token)],
    summary="List runs",
)
async def list_runs(
    context: Context,
    run_status: Annotated[list[RunStatus] | None, Query(alias="status", description="Any of these.")] = None,
    namespace: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    workload: Annotated[str | None, Query(min_length=1, max_length=253, description="Workload name.")] = None,
    incident_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> RunPage:
    """Runs, newest first, filtered; page with `limit` and `cursor`."""
    page = await from_store(
        context.store.list_runs,
        status=run_status or None,
        namespace=namespace,
        workload=workload,
        incident_id=incident_id,
        limit=limit,
        cursor=cursor,
    )
    return page


@router.get(
    "/{run_id}",
    response_model=RunRecord,
    responses={**NOT_FOUND, **UNAUTHORIZED},
    dependencies=[Depends(require_read_token)],
    summary="A run's state",
)
async def get_run(run_id: RunId, context: Context) -> RunRecord:
    """Status, diagnosis, decision, actions and verification, as stored on the run."""
    return await load_run(context, run_id)


@router.get(
    "/{run_id}/trace",
    response_model=RunTrace,
    responses={**NOT_FOUND, **UNAUTHORIZED},
    dependencies=[Depends(require_read_token)],
    summary="A run's full reasoning trace",
)
async def get_trace(
    run_id: RunId,
    context: Context,
    inline: Annotated[bool, Query(description="Replace blob references by their content.")] = True,
) -> RunTrace:
    """Every trace event of the run, in `seq` order; large values inlined unless `inline=false`."""
    run = await load_run(context, run_id)
    events = await from_store(context.store.run_trace, run_id, inline=inline)
    return RunTrace(run_id=run_id, status=run.status, inlined=inline, events=events)


_ANSWER_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"model": AnswerConflict, "description": "The run is not waiting for approval; nothing changed."},
    **NOT_FOUND,
    **UNAUTHORIZED,
    **NO_LAUNCHER,
}


# A human's answer to a run waiting for approval: yes and no share their route's contract.
_answer_route = token_post(router, AnswerResponse, _ANSWER_RESPONSES)


@_answer_route("/{run_id}/approve", summary="Approve the action a run waits on")
async def approve_run(run_id: RunId, answer: Annotated[AnswerRequest, Body()], context: Context) -> Any:
    """Resume a run waiting for approval with a yes; 409 (with its status) when it is not waiting."""
    return await _answer(context, run_id, answer, approved=True)


@_answer_route("/{run_id}/reject", summary="Reject the action a run waits on")
async def reject_run(run_id: RunId, answer: Annotated[AnswerRequest, Body()], context: Context) -> Any:
    """Resume a run waiting for approval with a no; 409 (with its status) when it is not waiting."""
    return await _answer(context, run_id, answer, approved=False)


async def _answer(context: ServerContext, run_id: str, answer: AnswerRequest, *, approved: bool) -> Any:
    run = await load_run(context, run_id)
    if run.status is not RunStatus.WAITING_APPROVAL:
        return _conflict(run)
    launcher = _launcher(context)
    payload = {"approved": approved, "by": answer.by, "comment": answer.comment}
    try:
        after = await asyncio.to_thread(launcher.answer, run_id, payload)
    except (ConflictError, RunNotWaiting):
        # Another answer won the race between our read and the resume: report where the run is now.
        return _conflict(await load_run(context, run_id))
    except UnknownRunError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
    return AnswerResponse(run_id=run_id, approved=approved, status=RunStatus(after))


def _conflict(run: RunRecord) -> JSONResponse:
    body = AnswerConflict(
        detail=f"run {run.id!r} is {run.status.value}, not waiting for approval; nothing was changed",
        status=run.status,
    )
    return JSONResponse(status_code=status.HTTP_409_CONFLICT, content=body.model_dump(mode="json"))
