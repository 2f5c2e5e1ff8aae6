"""The API router for incidents: list and detail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from server.auth import require_read_token
from server.context import Context
from server.routes.params import UNAUTHORIZED, Cursor, Limit, error, from_store
from server.runstore import IncidentPage, IncidentRecord, IncidentStatus

router = APIRouter(prefix="/incidents", tags=["incidents"], dependencies=[Depends(require_read_token)])


@router.get(
    "",
    response_model=IncidentPage,
    responses={**error(400, "A cursor the store cannot use."), **UNAUTHORIZED},
    summary="List incidents",
)
async def list_incidents(
    context: Context,
    incident_status: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    namespace: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> IncidentPage:
    """Incidents, newest first, filtered by status and namespace; page with `limit` and `cursor`."""
    page = await from_store(
        context.store.list_incidents, status=incident_status, namespace=namespace, limit=limit, cursor=cursor
    )
    return page


@router.get(
    "/{incident_id}",
    response_model=IncidentRecord,
    responses={**error(404, "No incident has this id."), **UNAUTHORIZED},
    summary="One incident",
)
async def get_incident(
    incident_id: Annotated[str, Path(min_length=1, max_length=200)], context: Context
) -> IncidentRecord:
    """An incident: its workload, reason, how often it was seen, and whether it is still open."""
    return await from_store(context.store.get_incident, incident_id)
