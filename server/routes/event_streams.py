"""The API router for SSE streams of a run's trace and of all runs.

Each message: `id` (the run-level `seq` on a run's stream, the global event id on `/events`),
`event` (the trace event type) and `data` (the trace event as JSON). A run's stream ends with
an `end` event (`{"run_id", "status", "last_seq"}`) once the run is final. Resume with the
`Last-Event-ID` header (what EventSource sends on reconnect) or `?after=`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query

from server import sse
from server.auth import require_read_token
from server.context import Context
from server.routes.params import UNAUTHORIZED, error
from server.routes.runs import load_run
from server.sse_response import EventStreamResponse

router = APIRouter(tags=["events"], dependencies=[Depends(require_read_token)])

LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", max_length=40, description="The last id received; resume after it."),
]
After = Annotated[int | None, Query(ge=0, le=sse.MAX_EVENT_ID, description="Resume after this id.")]
Inline = Annotated[bool, Query(description="Replace blob references by their content.")]

_STREAM = {"content": {"text/event-stream": {}}, "description": "An SSE stream of trace events."}
_ERRORS = {**error(400, "A Last-Event-ID that is not an event id."), **UNAUTHORIZED}


@router.get(
    "/runs/{run_id}/events",
    response_class=EventStreamResponse,
    responses={200: _STREAM, **error(404, "No run has this id."), **_ERRORS},
    summary="Follow a run's trace (SSE)",
)
async def run_events(
    run_id: Annotated[str, Path(min_length=1, max_length=200)],
    context: Context,
    last_event_id: LastEventId = None,
    after: After = None,
    inline: Inline = True,
) -> EventStreamResponse:
    """Replay the run's stored trace after the resume point, then live events; closes with `end`."""
    start = sse.resume_point(last_event_id, after)
    await load_run(context, run_id)  # 404 before the stream starts, not an error inside it
    return EventStreamResponse(sse.run_events(context, run_id, start, inline=inline))


@router.get(
    "/events",
    response_class=EventStreamResponse,
    responses={200: _STREAM, **_ERRORS},
    summary="Follow every run's trace (SSE)",
)
async def all_events(
    context: Context, last_event_id: LastEventId = None, after: After = None, inline: Inline = True
) -> EventStreamResponse:
    """Every run's events, ids being global event ids, from the resume point on; never ends by itself."""
    start = sse.resume_point(last_event_id, after)
    return EventStreamResponse(sse.all_events(context, start, inline=inline))
