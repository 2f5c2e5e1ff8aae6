"""The stream loop's protocol with a scripted HTTP API server: which requests it makes, and when.

The sandbox tests (test_streams.py) show the behaviour against a real store; these pin down the
wire: the list's resourceVersion feeds the watch, every event and bookmark advances it, a 410 (as
an ERROR event or an HTTP status) leads to a new list, a 500 to a back-off and a resumed watch.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from kubernetes import client as k8s

from server.watcher.streams import Backoff, Resource, ResourceStream, StreamSpec
from tests.loopback import QuietHandler, serve_on_loopback
from tests.polling import eventually
from tests.server.watcher.conftest import write_kubeconfig
from tools.kubernetes.client import api_client_from_config

Obj = dict[str, Any]
PODS_PATH = "/api/v1/namespaces/shop/pods"


def _pod(name: str, rv: int) -> Obj:
    return {"metadata": {"name": name, "namespace": "shop", "resourceVersion": str(rv)}}


class Script:
    """Answers lists from `lists` and watches from `watches` (each a status and events), in order."""

    def __init__(self) -> None:
        self.lists: list[tuple[int, list[Obj]]] = []
        self.watches: list[tuple[int, list[Obj]]] = []
        self.requests: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def next(self, watch: bool) -> tuple[int, Any]:
        with self.lock:
            queue = self.watches if watch else self.lists
            if not queue:  # out of script: an idle watch that ends quickly, or an empty list
                return (200, []) if watch else (200, (99, []))
            return queue.pop(0)


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _send(self, status: int, body: Obj) -> None:
            self.reply(status, json.dumps(body).encode())

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            with script.lock:
                script.requests.append({"path": parts.path, **query})
            if parts.path.startswith("/apis/"):
                self._send(404, {"kind": "Status", "code": 404, "reason": "NotFound", "message": "not found"})
                return
            watch = query.get("watch") == "true"
            status, answer = script.next(watch)
            if status != 200:
                self._send(status, {"kind": "Status", "code": status, "reason": "x", "message": "scripted"})
                return
            if not watch:
                rv, items = answer
                self._send(200, {"kind": "PodList", "metadata": {"resourceVersion": str(rv)}, "items": items})
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in answer:
                line = (json.dumps(event) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                self.wfile.flush()
            time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    return Handler


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def on_list(self, spec: StreamSpec, items: list[Obj]) -> None:
        self.calls.append(("LIST", sorted(i["metadata"]["name"] for i in items)))

    def on_event(self, spec: StreamSpec, event_type: str, obj: Obj) -> None:
        self.calls.append((event_type, obj["metadata"]["name"]))


@pytest.fixture
def scripted(tmp_path: Path) -> Iterator[tuple[Script, Callable[..., tuple[ResourceStream, Recorder]]]]:
    script = Script()
    with serve_on_loopback(_handler(script)) as url:
        api = api_client_from_config(write_kubeconfig(url, tmp_path / "kc"))
        streams: list[ResourceStream] = []

        def start(spec: StreamSpec | None = None) -> tuple[ResourceStream, Recorder]:
            recorder = Recorder()
            spec = spec or StreamSpec("pods/shop", "Pod", k8s.CoreV1Api(api).list_namespaced_pod, ("shop",))
            stream = ResourceStream(spec, recorder, api, timeout_seconds=1, backoff=Backoff(0.05, 0.1))
            streams.append(stream)
            stream.start()
            return stream, recorder

        try:
            yield script, start
        finally:
            for stream in streams:
                stream.stop()
                assert stream.join(10)
            api.close()


def _watches(script: Script) -> list[dict[str, str]]:
    with script.lock:
        return [r for r in script.requests if r.get("watch") == "true"]


def test_list_then_watch_from_the_lists_version_and_resume_from_events_and_bookmarks(scripted: Any) -> None:
    script, start = scripted
    script.lists.append((200, (10, [_pod("a", 9)])))
    script.watches.append((200, [{"type": "ADDED", "object": _pod("b", 11)}]))
    script.watches.append((200, [{"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "15"}}}]))
    stream, recorder = start()
    assert eventually(lambda: len(_watches(script)) >= 3, timeout=10.0), "timed out"
    watches = _watches(script)
    assert [w["resourceVersion"] for w in watches[:3]] == ["10", "11", "15"]
    assert watches[0]["allowWatchBookmarks"] == "true" and watches[0]["timeoutSeconds"] == "1"
    assert recorder.calls[:2] == [("LIST", ["a"]), ("ADDED", "b")]  # the bookmark is not an event
    assert stream.state.lists == 1


def test_gone_as_an_error_event_lists_again(scripted: Any) -> None:
    script, start = scripted
    script.lists += [(200, (10, [_pod("a", 9)])), (200, (20, [_pod("b", 19)]))]
    gone = {
        "kind": "Status",
        "code": 410,
        "reason": "Expired",
        "message": "too old resource version: 10 (15)",
    }
    script.watches.append((200, [{"type": "ERROR", "object": gone}]))
    stream, recorder = start()
    assert eventually(lambda: len(_watches(script)) >= 2, timeout=10.0), "timed out"
    assert recorder.calls[:2] == [("LIST", ["a"]), ("LIST", ["b"])]
    assert _watches(script)[1]["resourceVersion"] == "20"
    assert stream.state.gone == 1 and stream.state.errors == 0


def test_gone_as_an_http_status_lists_again(scripted: Any) -> None:
    script, start = scripted
    script.lists += [(200, (10, [])), (200, (30, []))]
    script.watches.append((410, None))
    stream, _ = start()
    assert eventually(lambda: len(_watches(script)) >= 2, timeout=10.0), "timed out"
    assert _watches(script)[1]["resourceVersion"] == "30"
    assert stream.state.gone == 1 and stream.state.lists == 2


def test_server_errors_back_off_and_resume_without_listing(scripted: Any) -> None:
    script, start = scripted
    script.lists.append((200, (10, [])))
    script.watches += [(200, [{"type": "MODIFIED", "object": _pod("a", 12)}]), (500, None), (503, None)]
    stream, recorder = start()
    assert eventually(lambda: len(_watches(script)) >= 4, timeout=10.0), "timed out"
    assert ("MODIFIED", "a") in recorder.calls
    assert [w["resourceVersion"] for w in _watches(script)[:4]] == ["10", "12", "12", "12"]
    assert stream.state.errors == 2 and stream.state.lists == 1
    assert "HTTP 503" in (stream.state.last_error or "")


def test_missing_custom_resource_turns_the_stream_off(scripted: Any) -> None:
    script, start = scripted
    resource = Resource("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
    never_called = lambda *a, **k: pytest.fail("listed a resource discovery does not know")  # noqa: E731
    stream, recorder = start(StreamSpec("kustomizations", "Kustomization", never_called, (), resource))
    assert stream.join(10)
    assert stream.state.available is False and recorder.calls == []
    assert [r["path"] for r in script.requests] == ["/apis/kustomize.toolkit.fluxcd.io/v1"]


def test_backoff_grows_with_jitter_and_resets() -> None:
    import random

    backoff = Backoff(initial=1, maximum=8, factor=2, jitter=0.5, rng=random.Random(1))
    delays = [backoff.next() for _ in range(6)]
    bases = [1, 2, 4, 8, 8, 8]
    assert all(base * 0.5 <= d <= base for d, base in zip(delays, bases, strict=True))
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 1
    with pytest.raises(ValueError):
        Backoff(initial=0)
