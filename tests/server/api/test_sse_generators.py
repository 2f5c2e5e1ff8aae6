"""The SSE generators on their own: store page boundaries, and the last events racing the final status."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from agent.trace import TraceEvent, TraceEventType
from server import sse
from server.context import ServerContext
from server.runstore import RunStatus
from tests.server.api.conftest import Api


async def _collect(context: ServerContext, run_id: str, after: int = 0) -> list[Any]:
    async def run() -> list[Any]:
        return [m async for m in sse.run_events(context, run_id, after)]

    return await asyncio.wait_for(run(), 20)


def test_replay_crosses_store_pages_without_gaps(api: Api) -> None:
    api.new_run("r1")
    api.emit("r1", 2 * sse.PAGE + 1)
    api.store.update_run("r1", status=RunStatus.HEALED)
    got = asyncio.run(_collect(api.context, "r1", after=7))
    assert [m.id for m in got[:-1]] == [str(seq) for seq in range(8, 2 * sse.PAGE + 2)]
    assert got[-1].event == "end" and json.loads(got[-1].data)["last_seq"] == 2 * sse.PAGE + 1


class _LateWriter:
    """A store whose first read races a writer: after it, one more event lands and the run finishes."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._raced = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def events(self, run_id: str, **kwargs: Any) -> list[TraceEvent]:
        found = self._store.events(run_id, **kwargs)
        if not self._raced:
            self._raced = True
            self._store.append_event(run_id, TraceEvent(run_id=run_id, type=TraceEventType.VERIFICATION))
            self._store.update_run(run_id, status=RunStatus.HEALED)
        return found


def test_the_end_event_never_cuts_off_events_stored_before_the_final_status(api: Api) -> None:
    api.new_run("r1")
    api.emit("r1", 2)
    context = ServerContext(
        store=_LateWriter(api.store), settings=api.context.settings, extras=api.context.extras
    )
    got = asyncio.run(_collect(context, "r1"))
    assert [(m.id, m.event) for m in got] == [
        ("1", "note"),
        ("2", "note"),
        ("3", "verification"),
        (None, "end"),
    ]


def test_the_header_wins_over_after_and_garbage_is_refused() -> None:
    import pytest
    from fastapi import HTTPException

    assert sse.resume_point(None, None) == 0
    assert sse.resume_point(None, 4) == 4
    assert sse.resume_point(" 9 ", 4) == 9
    assert sse.resume_point("", 4) == 4, "an empty header is no resume point"
    for bad in ("x", "-1", "1.5", str(sse.MAX_EVENT_ID + 1)):
        with pytest.raises(HTTPException) as refused:
            sse.resume_point(bad, None)
        assert refused.value.status_code == 400
