"""The API router for incidents: list and detail."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, status

from server.auth import require_read_token
from server.context import ServerContext, get_context
from server.runstore import IncidentRecord, IncidentStatus, InvalidInputError, UnknownIncidentError
from server.schemas import ErrorBody, IncidentList

router = APIRouter(prefix="/incidents", tags=["incidents"], dependencies=[Depends(require_read_token)])

Context = Annotated[ServerContext, Depends(get_context)]
UNAUTHORIZED = {401: {"model": ErrorBody, "description": "The bearer token is missing or wrong."}}


@router.get(
    "",
    response_model=IncidentList,
    responses={400: {"model": ErrorBody, "description": "A cursor the store cannot use."}, **UNAUTHORIZED},
    summary="List incidents",
)
async def list_incidents(
    context: Context,
    incident_status: Annotated[IncidentStatus | None, Query(alias="status")] = None,
    namespace: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="The last page's `next_cursor`.")
    ] = None,
) -> IncidentList:
    """Incidents, newest first, filtered by status and namespace; page with `limit` and `cursor`."""
    try:
        page = await asyncio.to_thread(
            context.store.list_incidents,
            status=incident_status,
            namespace=namespace,
            limit=limit,
            cursor=cursor,
        )
    except InvalidInputError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=str(exc)) from exc
    return IncidentList(items=page.items, next_cursor=page.next_cursor)


@router.get(
    "/{incident_id}",
    response_model=IncidentRecord,
    responses={404: {"model": ErrorBody, "description": "No incident has this id."}, **UNAUTHORIZED},
    summary="One incident",
)
async def get_incident(
    incident_id: Annotated[str, Path(min_length=1, max_length=200)], context: Context
) -> IncidentRecord:
    """An incident: its workload, reason, how often it was seen, and whether it is still open."""
    try:
        return await asyncio.to_thread(context.store.get_incident, incident_id)
    except UnknownIncidentError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(exc)) from exc
