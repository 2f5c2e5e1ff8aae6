"""What the cross-process run-store tests run in their children (`tests.forked`): other writers."""

from __future__ import annotations

import time
from multiprocessing.connection import Connection

from agent import trace
from server.runstore import open_run_store


def append_notes(url: str, run_id: str, count: int, tag: str) -> None:
    """Open the store at `url` and append `count` notes `tag-<i>` to `run_id`, one at a time."""
    with open_run_store(url) as store:
        for i in range(count):
            store.append_event(run_id, trace.note(run_id, None, f"{tag}-{i}", {"i": i}))


def ready_then_append(url: str, go: Connection) -> None:
    """Say 'ready', wait for 'go', then half a second later append one note to run 'b'."""
    go.send("ready")
    assert go.recv() == "go"
    time.sleep(0.5)
    with open_run_store(url) as store:
        store.append_event("b", trace.note("b", None, "from elsewhere"))
