"""Driving a `Watcher` by hand, as its threads would: store events in, due rechecks run, incidents out."""

from __future__ import annotations

import queue
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from agent.domain import Incident
from server.watcher.streams import StreamSpec
from server.watcher.watcher import Watcher


def specs_of(kinds: Iterable[str]) -> dict[str, StreamSpec]:
    """A stream spec per watched kind (never listed: the tests feed events themselves)."""
    return {kind: StreamSpec(kind.lower(), kind, lambda: None) for kind in kinds}


def feed(watcher: Watcher, specs: dict[str, StreamSpec], events: queue.Queue[Any]) -> None:
    """Hand the watcher every queued store event of a watched kind, in order."""
    while True:
        try:
            event = events.get_nowait()
        except queue.Empty:
            return
        kind = event.obj.get("kind")
        if kind in specs:
            watcher.on_event(specs[kind], event.type, event.obj)


def recheck_due(watcher: Watcher, now: datetime) -> None:
    """Run the rechecks due at `now`, as the watcher's recheck thread would."""
    for key in watcher._rechecks.pop_due(now):
        watcher._recheck(key)


def drain(watcher: Watcher) -> list[Incident]:
    """Every incident the watcher has queued, taken without waiting."""
    out = []
    while (incident := watcher.folder.take(timeout=0)) is not None:
        out.append(incident)
    return out


def step(watcher: Watcher, now: datetime) -> list[Incident]:
    """Run the rechecks due at `now`, then take what the watcher queued."""
    recheck_due(watcher, now)
    return drain(watcher)
