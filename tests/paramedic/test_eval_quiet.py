"""The eval agent's quiet check: the watcher must have caught up, whatever the wall-clock load."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from paramedic.eval_quiet import WatcherProgress, newest_version
from server.watcher.fold import FoldStats
from server.watcher.streams import StreamSpec, StreamState
from server.watcher.watcher import WatcherStats


def _lister(*versions: Any):
    def list_fn(*_args: Any, **_kwargs: Any) -> Any:
        items = [{"metadata": {"resourceVersion": v}} for v in versions]
        return SimpleNamespace(data=json.dumps({"items": items}).encode())

    return list_fn


@dataclass
class FakeWatcher:
    """What WatcherProgress reads from a Watcher."""

    cluster: list[Any] = field(default_factory=lambda: ["5", "9"])
    seen: str | None = "9"
    lists: int = 1
    dispatched: int = 0
    waiting: int = 0

    def stream_specs(self) -> list[StreamSpec]:
        return [
            StreamSpec("pods", "Pod", _lister(*self.cluster)),
            StreamSpec("apps", "Application", _lister()),
        ]

    def stats(self) -> WatcherStats:
        pods = StreamState("pods", available=True, resource_version=self.seen, lists=self.lists)
        crd = StreamState("apps", available=False)  # not served: never waited for
        return WatcherStats(FoldStats(dispatched=self.dispatched), [pods, crd])

    def backlog(self) -> int:
        return self.waiting


def test_caught_up_only_when_every_stream_has_seen_the_newest_version():
    watcher = FakeWatcher()
    progress = WatcherProgress(watcher)  # type: ignore[arg-type]
    assert progress.behind() is None
    watcher.seen = "5"
    assert "is at 5, the cluster at 9" in (progress.behind() or "")
    watcher.seen, watcher.lists = None, 0
    assert "has not listed yet" in (progress.behind() or "")


def test_a_backlog_or_a_fresh_dispatch_restarts_the_quiet_window():
    watcher = FakeWatcher()
    progress = WatcherProgress(watcher)  # type: ignore[arg-type]
    assert progress.behind() is None
    watcher.waiting = 2
    assert "2 incident(s) or recheck(s)" in (progress.behind() or "")
    watcher.waiting, watcher.dispatched = 0, 1
    assert "just dispatched" in (progress.behind() or "")
    assert progress.behind() is None  # nothing new since the last look


def test_an_unreadable_version_counts_as_behind():
    assert newest_version(StreamSpec("x", "X", _lister("12", "40"))) == 40
    assert newest_version(StreamSpec("x", "X", _lister())) == 0
    assert newest_version(StreamSpec("x", "X", _lister("abc"))) is None

    def broken(*_a: Any, **_k: Any) -> Any:
        raise OSError("connection refused")

    assert newest_version(StreamSpec("x", "X", broken)) is None
