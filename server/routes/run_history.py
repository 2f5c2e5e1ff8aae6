"""The API router for a run's history: the similar past incidents it recalled, and its timeline."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from agent.trace import TraceEvent
from server.auth import require_read_token
from server.context import Context, ServerContext
from server.routes.params import UNAUTHORIZED, RunId, error, from_store
from server.run_history import RunTimeline, SimilarIncidents, run_timeline, similar_incidents

router = APIRouter(prefix="/runs", tags=["runs"], dependencies=[Depends(require_read_token)])


async def _trace(context: ServerContext, run_id: str) -> list[TraceEvent]:
    def read() -> list[TraceEvent]:
        context.store.get_run(run_id)  # 404 for an unknown run, even one without events
        return context.store.run_trace(run_id)

    return await from_store(read)


@router.get(
    "/{run_id}/similar",
    response_model=SimilarIncidents,
    responses={**error(404, "No run has this id."), **UNAUTHORIZED},
    summary="Similar past incidents a run recalled",
)
async def get_similar(run_id: RunId, context: Context) -> SimilarIncidents:
    """The past incidents incident memory found for this run, best first, and how they ended."""
    return similar_incidents(await _trace(context, run_id))


@router.get(
    "/{run_id}/timeline",
    response_model=RunTimeline,
    responses={**error(404, "No run has this id."), **UNAUTHORIZED},
    summary="A run's timeline",
)
async def get_timeline(run_id: RunId, context: Context) -> RunTimeline:
    """Kubernetes events, commits, rollouts and metric changes from the evidence, and Paramedic's
    own steps, in one time-ordered list."""
    return run_timeline(run_id, await _trace(context, run_id))
