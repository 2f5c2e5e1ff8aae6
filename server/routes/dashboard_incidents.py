"""The dashboard's incident pages: the incidents list and one incident with its runs, the pull
requests they opened and one timeline.

Like the runs pages (server/routes/dashboard.py), a page follows the JSON API's event stream and
re-fetches its fragment on each event (debounced), and re-polls while one of its runs is active:
an incident's count and a run's final status change without an event of their own.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse, Response

from agent.trace import TraceEvent
from server.auth import require_page_reader, require_read_token
from server.context import Context, ServerContext
from server.dashboard import views
from server.dashboard.incident_views import IncidentRow, incident_row, incident_timeline, pulls_of
from server.routes.dashboard import LIST_LIMIT, POLL_SECONDS, SSE_TRIGGERS, chrome, html_page, provider_of
from server.routes.params import from_store
from server.runstore import IncidentRecord, RunRecord

router = APIRouter(include_in_schema=False)
IncidentId = Annotated[str, Path(min_length=1, max_length=200)]
RUNS_PER_INCIDENT = 50


def _rows(context: ServerContext) -> tuple[list[IncidentRow], bool]:
    """The incidents list's lines, newest first, and whether any of their runs is active."""
    rows: list[IncidentRow] = []
    active = False
    for incident in context.store.list_incidents(limit=LIST_LIMIT).items:
        runs = context.store.list_runs(incident_id=incident.id, limit=RUNS_PER_INCIDENT).items
        active = active or any(r.status.active for r in runs)
        rows.append(incident_row(incident, runs))
    return rows, active


def _incident(
    context: ServerContext, incident_id: str
) -> tuple[IncidentRecord, list[RunRecord], dict[str, list[TraceEvent]]]:
    incident = context.store.get_incident(incident_id)
    runs = context.store.list_runs(incident_id=incident_id, limit=RUNS_PER_INCIDENT).items
    events = {run.id: context.store.events(run.id, limit=1000) for run in runs}
    return incident, runs, events


async def _detail(context: ServerContext, request: Request, incident_id: str) -> dict[str, Any]:
    incident, runs, events = await from_store(_incident, context, incident_id)
    return {
        **chrome(context, request),
        "incident": incident,
        "row": incident_row(incident, runs),
        "rows": [views.run_row(run) for run in runs],
        "no_poll": True,  # the incident body polls itself while a run is active
        "pulls": pulls_of(runs, provider_of(context)),
        "moments": incident_timeline(incident, runs, events),
        "active": any(run.status.active for run in runs),
        "poll": POLL_SECONDS,
        "triggers": SSE_TRIGGERS,
    }


@router.get("/ui/incidents", response_class=HTMLResponse, dependencies=[Depends(require_page_reader)])
async def incidents_page(request: Request, context: Context) -> Response:
    """Every recent incident: its state, how often it was seen, when, and its runs."""
    rows, active = await asyncio.to_thread(_rows, context)
    return html_page(
        "incidents.html", rows=rows, active=active, poll=POLL_SECONDS, triggers=SSE_TRIGGERS,
        **chrome(context, request),
    )  # fmt: skip


@router.get("/ui/incidents/rows", response_class=HTMLResponse, dependencies=[Depends(require_read_token)])
async def incidents_rows(context: Context) -> Response:
    """The incidents table body, re-fetched by the list page on every SSE event."""
    rows, active = await asyncio.to_thread(_rows, context)
    return html_page("_incident_rows.html", rows=rows, active=active, poll=POLL_SECONDS)


@router.get(
    "/ui/incidents/{incident_id}", response_class=HTMLResponse, dependencies=[Depends(require_page_reader)]
)
async def incident_page(incident_id: IncidentId, request: Request, context: Context) -> Response:
    """One incident: its runs, the pull requests they opened, and one timeline."""
    return html_page("incident.html", **await _detail(context, request, incident_id))


@router.get(
    "/ui/incidents/{incident_id}/body",
    response_class=HTMLResponse,
    dependencies=[Depends(require_read_token)],
)
async def incident_body(incident_id: IncidentId, request: Request, context: Context) -> Response:
    """The incident page below its SSE connection, re-fetched on each event."""
    return html_page("_incident_body.html", **await _detail(context, request, incident_id))
