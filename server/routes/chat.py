"""The API router for the chat endpoint: `POST /chat`, an SSE-streamed answer about incidents and runs.

The stream is `token` events (`{"text": ...}` chunks that concatenate to the answer), one
`citations` event (the run, incident, trace-event and audit ids the answer rests on), and an
`end` event; a failure while answering is an `error` event before `end`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from server.auth import require_token
from server.chat.models import ChatRequest
from server.chat.service import answerer_for, sse_events
from server.context import ServerContext, get_context

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)


# One server-sent event of the answer (the stream's items, as OpenAPI 3.2 and schemathesis read an
# event-stream schema): its name and its JSON text.
CHAT_EVENT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["token", "citations", "end", "error"]},
        "data": {
            "type": "string",
            "description": "JSON: {text}, citations, {provider, known} or {message}",
        },
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
    "required": ["event", "data"],
}


@router.post(
    "/chat",
    summary="Ask about incidents and runs; the answer is streamed as server-sent events",
    response_class=EventSourceResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": CHAT_EVENT}},
            "description": "Events: token (JSON {text}) repeated, citations (JSON list), end (JSON"
            " {provider, known}); error before end when answering failed",
        },
        401: {"description": "A bearer token is configured and was not given"},
    },
)
async def chat(
    body: ChatRequest,
    context: Annotated[ServerContext, Depends(get_context)],
    _: Annotated[None, Depends(require_token)],
) -> EventSourceResponse:
    """Answer `question` from the run store (rules) or through the LLM agent over read-only tools."""
    answerer = answerer_for(context)

    async def stream() -> AsyncIterator[dict[str, Any]]:
        try:
            # The store and the LLM client are blocking: answer off the event loop.
            answer = await run_in_threadpool(
                answerer.answer, body.question, run_id=body.run_id, incident_id=body.incident_id
            )
        except Exception as exc:
            log.exception("chat answer failed")
            yield {"event": "error", "data": json.dumps({"message": f"{type(exc).__name__}: {exc}"})}
            yield {"event": "end", "data": json.dumps({"provider": answerer.provider, "known": False})}
            return
        for event in sse_events(answer):
            yield event

    return EventSourceResponse(stream())
