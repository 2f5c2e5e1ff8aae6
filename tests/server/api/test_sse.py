"""SSE streams against a live uvicorn server over a real socket: replay then live, ordering,
resume with Last-Event-ID, pings, clean close on run end, many subscribers, disconnect cleanup.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

import httpx
import pytest
from sse_starlette.sse import AppStatus

from server.prometheus_exporter import metrics_of
from server.runstore import RunStatus
from tests.polling import eventually
from tests.server.api.conftest import Live

TIMEOUT = httpx.Timeout(10.0)


@cache
def tls() -> ssl.SSLContext:
    """httpx's default context for verify=True, made once: each new httpx.Client would otherwise load
    the CA bundle again (~40 ms of CPU), 25 times here for plain-HTTP loopback streams."""
    return httpx.create_ssl_context()


@dataclass
class Message:
    """One SSE message as a client sees it."""

    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> dict:
        return json.loads(self.data)


def messages(response: httpx.Response, *, with_pings: bool = False) -> Iterator[Message]:
    """Parse a text/event-stream: messages end at a blank line; comment-only blocks are pings."""
    current = Message()
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data or current.id is not None or current.event != "message":
                current.data = "\n".join(data)
                yield current
            elif current.comments and with_pings:
                yield current
            current, data = Message(), []
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "":
            current.comments.append(value)
        elif name == "data":
            data.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value


@contextmanager
def _stream(live: Live, path: str, **kwargs) -> Iterator[httpx.Response]:
    """A streamed GET; leaving the block closes the connection (the client disconnects)."""
    with (
        httpx.Client(base_url=live.base_url, timeout=TIMEOUT, verify=tls()) as client,
        client.stream("GET", path, **kwargs) as response,
    ):
        yield response


def _finish(live: Live, run_id: str, status: RunStatus = RunStatus.HEALED) -> None:
    live.api.store.update_run(run_id, status=status)


def test_a_run_stream_replays_then_follows_live_in_order_and_ends_with_the_status(live: Live) -> None:
    api = live.api
    api.new_run("r1")
    api.emit("r1", 3)
    with _stream(live, "/api/v1/runs/r1/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = messages(response)
        replayed = [next(stream) for _ in range(3)]
        assert [(m.id, m.event) for m in replayed] == [("1", "note"), ("2", "note"), ("3", "note")]
        assert replayed[0].json["summary"] == "step 0" and replayed[0].json["run_id"] == "r1"

        # Live: a writer appends while we read; every event arrives once, in order, no gaps.
        def writer() -> None:
            api.emit("r1", 200)
            _finish(live, "r1")

        thread = threading.Thread(target=writer)
        thread.start()
        rest = list(stream)
        thread.join()
    assert [m.id for m in rest[:-1]] == [str(seq) for seq in range(4, 204)]
    end = rest[-1]
    assert end.event == "end" and end.id is None
    assert end.json == {"run_id": "r1", "status": "healed", "last_seq": 203}


def test_resume_after_the_last_event_id_without_gaps_or_duplicates(live: Live) -> None:
    api = live.api
    api.new_run("r1")
    api.emit("r1", 6)
    _finish(live, "r1", RunStatus.ESCALATED)

    def ids(**kwargs) -> list[str | None]:
        with _stream(live, "/api/v1/runs/r1/events", **kwargs) as response:
            assert response.status_code == 200
            return [m.id for m in messages(response)]

    assert ids() == ["1", "2", "3", "4", "5", "6", None]
    assert ids(headers={"Last-Event-ID": "4"}) == ["5", "6", None]
    assert ids(params={"after": 2}) == ["3", "4", "5", "6", None]
    # EventSource reconnects to the same URL with the header: the header is the newer point.
    assert ids(params={"after": 2}, headers={"Last-Event-ID": "5"}) == ["6", None]
    assert ids(headers={"Last-Event-ID": "6"}) == [None], "after the last event: only the end again"


def test_bad_resume_points_and_unknown_runs_are_refused_before_streaming(live: Live) -> None:
    live.api.new_run("r1")
    with httpx.Client(base_url=live.base_url, timeout=TIMEOUT, verify=tls()) as client:
        bad = client.get("/api/v1/runs/r1/events", headers={"Last-Event-ID": "abc"})
        assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]
        assert client.get("/api/v1/runs/r1/events", params={"after": -1}).status_code == 422
        missing = client.get("/api/v1/runs/nope/events")
        assert missing.status_code == 404 and missing.json() == {"detail": "unknown run 'nope'"}
        assert client.get("/api/v1/events", headers={"Last-Event-ID": "-3"}).status_code == 400


def test_an_idle_stream_gets_pings(live: Live) -> None:
    live.api.new_run("r1")  # extras["sse_ping"] is 0.5 s in the fixture
    with _stream(live, "/api/v1/runs/r1/events") as response:
        started = time.monotonic()
        first = next(messages(response, with_pings=True))
        assert first.id is None and first.data == "" and first.comments, "a comment-only keep-alive"
        assert any(c.startswith("ping") for c in first.comments)
        assert time.monotonic() - started < 3


def test_a_finished_run_closes_even_when_its_status_changes_without_a_new_event(live: Live) -> None:
    live.api.new_run("r1")
    live.api.emit("r1", 1)
    with _stream(live, "/api/v1/runs/r1/events") as response:
        stream = messages(response)
        assert next(stream).id == "1"
        _finish(live, "r1", RunStatus.FAILED)
        started = time.monotonic()
        rest = list(stream)
        assert time.monotonic() - started < 3
    assert [m.event for m in rest] == ["end"] and rest[0].json["status"] == "failed"


def test_twenty_concurrent_subscribers_each_get_every_event_once_in_order(live: Live) -> None:
    api = live.api
    api.new_run("r1")
    api.emit("r1", 5)
    metrics = metrics_of(api.context.extras)
    results: dict[int, list[str | None]] = {}
    ready = threading.Barrier(21)

    def subscribe(index: int) -> None:
        with _stream(live, "/api/v1/runs/r1/events") as response:
            stream = messages(response)
            got = [next(stream).id for _ in range(5)]
            ready.wait(10)
            got += [m.id for m in stream]
            results[index] = got

    threads = [threading.Thread(target=subscribe, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    ready.wait(10)
    assert metrics.subscribers("run") == 20
    api.emit("r1", 45)
    _finish(live, "r1")
    for thread in threads:
        thread.join(15)
    expected = [str(seq) for seq in range(1, 51)] + [None]
    assert len(results) == 20
    assert all(got == expected for got in results.values()), {i: g[-3:] for i, g in results.items()}
    assert eventually(lambda: metrics.subscribers("run") == 0, timeout=5.0)


@pytest.mark.parametrize("path", ["/api/v1/runs/r1/events", "/api/v1/events"])
def test_a_client_disconnect_stops_the_server_side_generator(live: Live, path: str) -> None:
    api = live.api
    api.new_run("r1")
    api.emit("r1", 2)
    metrics = metrics_of(api.context.extras)
    stream_kind = "run" if "runs" in path else "all"
    with _stream(live, path) as response:
        # Keep the parser alive: a discarded generator over `iter_lines` is closed by the garbage
        # collector, and closing httpx's byte stream closes the connection - a disconnect before
        # the one under test.
        stream = messages(response)
        assert next(stream).id == "1"
        # Seen from another thread than the server's loop; under load the read can come first.
        assert eventually(lambda: metrics.subscribers(stream_kind) == 1, timeout=5)
        stream.close()
    assert eventually(lambda: metrics.subscribers(stream_kind) == 0, timeout=5), (
        "the generator outlived its client"
    )
    # The run stays active: nothing but the disconnect could have ended that stream.
    assert api.store.get_run("r1").status is RunStatus.RUNNING


def test_the_all_runs_stream_uses_global_ids_and_resumes_with_them(live: Live) -> None:
    api = live.api
    api.new_run("a")
    api.new_run("b")
    stored = api.emit("a", 2) + api.emit("b", 1) + api.emit("a", 1)
    global_ids = [str(e.id) for e in stored]
    with _stream(live, "/api/v1/events") as response:
        stream = messages(response)
        first = [next(stream) for _ in range(4)]
        assert [m.id for m in first] == global_ids
        assert [m.json["run_id"] for m in first] == ["a", "a", "b", "a"]
        assert [m.json["seq"] for m in first] == [1, 2, 1, 3]
        live_one = api.emit("b", 1)[0]
        following = next(stream)
        assert following.id == str(live_one.id) and following.json["run_id"] == "b"
    with _stream(live, "/api/v1/events", headers={"Last-Event-ID": global_ids[1]}) as response:
        stream = messages(response)
        assert [next(stream).id for _ in range(3)] == [*global_ids[2:], str(live_one.id)]


def test_open_streams_end_when_the_server_shuts_down(live: Live) -> None:
    # uvicorn waits for open responses before it stops; an endless stream must end by itself
    # once the exit flag is up (sse-starlette raises it from uvicorn's signal handler).
    live.api.new_run("r1")
    live.api.emit("r1", 1)
    with _stream(live, "/api/v1/runs/r1/events") as response:
        stream = messages(response)
        assert next(stream).id == "1"
        AppStatus.should_exit = True
        try:
            started = time.monotonic()
            assert list(stream) == [], "the stream ends without an `end` event: the run goes on"
            assert time.monotonic() - started < 3
        finally:
            AppStatus.should_exit = False
    assert live.api.store.get_run("r1").status is RunStatus.RUNNING
