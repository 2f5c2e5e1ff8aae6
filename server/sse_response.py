"""The ASGI response of the trace streams: SSE wire bytes, written as they come, one `send` each.

The stream (server/sse.py) yields ready-made SSE bytes (a chunk of events shared by every
subscriber, a keep-alive comment, the `end` message), so the response has nothing to encode and
nothing to time: each chunk is one `send`. sse-starlette's `EventSourceResponse`, used before,
entered an anyio cancel scope for every send (its send timeout) and ran a ping task per
subscriber; at 1,000 subscribers of one stream that was most of the server's CPU per delivered
event (docs/benchmarks.md). Keep-alive comments come from the stream's hub instead, one timer
for all of its subscribers.

A second task per connection waits for the client to go away: uvicorn's `send` does not fail on
a closed connection, so without it an idle stream would outlive its client until the next event.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HEADERS = {
    "Cache-Control": "no-store",  # a cache must not replay a live stream
    "X-Accel-Buffering": "no",  # nginx (and ingress-nginx) must not buffer it either
}


class EventStreamResponse(Response):
    """A `text/event-stream` response over an async generator of SSE wire bytes."""

    media_type = "text/event-stream"

    def __init__(
        self,
        stream: AsyncGenerator[bytes, None],
        status_code: int = 200,  # a parameter with its default: FastAPI's OpenAPI document reads it
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.body_iterator = stream
        self.status_code = status_code
        self.background = None
        self.init_headers({**HEADERS, **(headers or {})})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stream until the generator ends or the client disconnects, whichever comes first."""
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        if scope.get("method") == "HEAD":  # headers only: an endless body would never complete
            await self.body_iterator.aclose()
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        streaming = asyncio.ensure_future(self._stream(send))
        listening = asyncio.ensure_future(_until_disconnect(receive))
        try:
            await asyncio.wait((streaming, listening), return_when=asyncio.FIRST_COMPLETED)
        finally:
            streaming.cancel()
            listening.cancel()
            # Let the stream's own cleanup (leaving its hub, the subscriber gauge) run to the end.
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait((streaming, listening))
        error = None if streaming.cancelled() else streaming.exception()
        if error is not None:
            raise error

    async def _stream(self, send: Send) -> None:
        stream = self.body_iterator
        try:
            async for data in stream:
                await send({"type": "http.response.body", "body": data, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await stream.aclose()  # cancelled while sending: the generator waits at its `yield`


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
