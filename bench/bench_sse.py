"""Benchmark: concurrent SSE subscribers on one run (default 1,000); delivery latency from append to client.

The server (uvicorn over a SQLite run store, with the real SSE routes) and the writer run in
this process; the subscribers run in a child process, so their parsing does not compete for
this process's GIL with the server, and speak HTTP on bare sockets (see `_Subscriber`). Each
event carries the wall-clock time it was appended; each subscriber notes when it arrived.
Reported: p50/p99/max latency over every (event, subscriber) pair, and whether every subscriber
got every event once, in order.

Also reported: the load average (the machine is shared: latency is only comparable between runs
made back to back) and the server process's CPU time per delivered event over the event phase,
which depends much less on the load. The last line is the verdict against the target: every
subscriber got every event once, in order, and p99 < 100 ms (exit status 1 otherwise).

Run: .venv/bin/python bench/bench_sse.py --subscribers 1000 --events 30 --interval 0.2
(`--http h11|httptools` and `--loop asyncio|uvloop` pin uvicorn's choice; `auto` by default)
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RUN_ID = "bench-run"
TARGET_P99_MS = 100.0


def _serve(data_dir: Path, http: str, loop: str) -> tuple[object, object, str]:
    import uvicorn

    from agent.config import Settings
    from agent.domain import WorkloadRef
    from server.app import create_app
    from server.context import ServerContext
    from server.runstore import NewRun, open_run_store

    store = open_run_store(f"sqlite:///{data_dir / 'runs.db'}")
    store.create_run(
        NewRun(id=RUN_ID, fingerprint="fp", target=WorkloadRef(namespace="shop", name="web"), mode="report",
               provider="rules")
    )  # fmt: skip
    context = ServerContext(store=store, settings=Settings(data_dir=data_dir), extras={"sse_ping": 15})
    config = uvicorn.Config(
        create_app(context), host="127.0.0.1", port=0, log_level="warning", lifespan="off", backlog=4096,
        http=http, loop=loop,
    )  # fmt: skip
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return store, server, f"http://127.0.0.1:{port}"


class _Subscriber(asyncio.Protocol):
    """One SSE subscriber on a raw socket: its hot path only notes when each network read arrived.

    Parsing (HTTP chunked framing, then SSE) waits until the stream ended, so a busy client does
    not pass its own backlog off as server latency; and a bare protocol costs the client far less
    per read than an HTTP client library would, so 1,000 streams measure the server, not the client.
    """

    def __init__(self, request: bytes, connected: asyncio.Future[None], done: asyncio.Future[None]) -> None:
        self.request, self.connected, self.done = request, connected, done
        self.arrivals: list[tuple[float, bytes]] = []
        self._tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.arrivals.append((time.time(), data))
        window = self._tail + data
        if not self.connected.done() and b"\r\n\r\n" in window:
            self.connected.set_result(None)
        if b"event: end" in window and not self.done.done():
            self.done.set_result(None)
            self.transport.close()
        self._tail = window[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self.connected, self.done):
            if not future.done():
                future.set_exception(exc or ConnectionError("the server closed the stream early"))


def _parse(arrivals: list[tuple[float, bytes]]) -> dict:
    """The event ids and latencies in one subscriber's reads (an event arrives with its last byte)."""
    raw = b"".join(data for _, data in arrivals)
    ends = list(itertools.accumulate(len(data) for _, data in arrivals))
    status = raw[: raw.index(b"\r\n")]
    assert status.startswith(b"HTTP/1.1 200"), status
    body, segments, pos = bytearray(), [], raw.index(b"\r\n\r\n") + 4  # segments: (body at, raw at)
    while (eol := raw.find(b"\r\n", pos)) > 0 and (size := int(raw[pos:eol], 16)):
        segments.append((len(body), eol + 2))
        body += raw[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2
    starts = [at for at, _ in segments]
    ids: list[int] = []
    latencies: list[float] = []
    begin = 0
    for separator in re.finditer(rb"\r?\n\r?\n", body):
        block, begin = bytes(body[begin : separator.start()]), separator.end()
        fields = dict(line.split(b": ", 1) for line in block.splitlines() if b": " in line)
        if fields.get(b"event") in (None, b"end") or b"data" not in fields:
            continue
        body_at, raw_at = segments[bisect.bisect_right(starts, separator.start()) - 1]
        arrived = arrivals[bisect.bisect_left(ends, raw_at + separator.start() - body_at + 1)][0]
        payload = json.loads(fields[b"data"])
        latencies.append(arrived - payload["payload"]["sent_at"])
        ids.append(payload["seq"])
    return {"ids": ids, "latencies": latencies}


async def _subscribe_all(base_url: str, n: int) -> list[dict]:
    loop = asyncio.get_running_loop()
    host, port = base_url.removeprefix("http://").split(":")
    request = (f"GET /api/v1/runs/{RUN_ID}/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Accept: text/event-stream\r\n\r\n").encode()  # fmt: skip
    subscribers = []
    for _ in range(n):
        subscriber = _Subscriber(request, loop.create_future(), loop.create_future())
        await loop.create_connection(lambda s=subscriber: s, host, int(port))
        subscribers.append(subscriber)
    await asyncio.gather(*(s.connected for s in subscribers))
    print("ready", flush=True)  # the parent starts writing now
    await asyncio.gather(*(s.done for s in subscribers))
    return [_parse(s.arrivals) for s in subscribers]


def _child(base_url: str, n: int) -> None:
    results = asyncio.run(_subscribe_all(base_url, n))
    sys.stdout.write(json.dumps({"results": results, "cpu_s": time.process_time()}) + "\n")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Start the server, the subscribers' process, write the events, report latencies."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--events", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.2, help="Seconds between appends.")
    parser.add_argument("--http", default="auto", help="uvicorn's HTTP protocol (auto, h11, httptools).")
    parser.add_argument("--loop", default="auto", help="uvicorn's event loop (auto, asyncio, uvloop).")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.subscribers)
        return

    from agent.trace import TraceEvent, TraceEventType
    from server.runstore import RunStatus

    with tempfile.TemporaryDirectory() as tmp:
        load_before = os.getloadavg()
        store, server, base_url = _serve(Path(tmp), args.http, args.loop)
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", base_url, "--subscribers", str(args.subscribers)],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert child.stdout is not None
        started = time.monotonic()
        assert child.stdout.readline().strip() == "ready", "the subscribers did not connect"
        connect_s = time.monotonic() - started
        cpu_started = os.times()  # this process: the server, and the writer (30 appends)
        for i in range(args.events):
            event = TraceEvent(run_id=RUN_ID, type=TraceEventType.NOTE, summary=f"step {i}",
                               payload={"sent_at": time.time()})  # fmt: skip
            store.append_event(RUN_ID, event)
            time.sleep(args.interval)
        store.update_run(RUN_ID, status=RunStatus.HEALED)
        reply = json.loads(child.stdout.readline())
        cpu_ended = os.times()
        server_user_s = cpu_ended.user - cpu_started.user
        server_sys_s = cpu_ended.system - cpu_started.system
        results = reply["results"]
        child.wait(60)
        server.should_exit = True

    expected = list(range(1, args.events + 1))
    complete = sum(1 for r in results if r["ids"] == expected)
    latencies = [ms * 1000 for r in results for ms in r["latencies"]]
    report = {
        "subscribers": args.subscribers,
        "events": args.events,
        "connect_all_s": round(connect_s, 2),
        "complete_and_ordered": f"{complete}/{len(results)}",
        "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(_percentile(latencies, 0.99), 1),
        "max_ms": round(max(latencies), 1),
    }
    report |= {
        # user: the Python side (ours, uvicorn's); system: mostly the kernel's TCP sends
        "server_cpu_us_per_delivery": {
            "user": round(server_user_s * 1e6 / max(1, len(latencies)), 1),
            "system": round(server_sys_s * 1e6 / max(1, len(latencies)), 1),
        },
        "client_cpu_s": round(reply["cpu_s"], 2),
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "http": server.config.http,
        "loop": server.config.loop,
        "python": sys.version.split()[0],
    }
    print(json.dumps(report, indent=2))
    passed = complete == len(results) == args.subscribers and report["p99_ms"] < TARGET_P99_MS
    print(
        f"{'PASS' if passed else 'FAIL'}: {complete}/{args.subscribers} complete and in order, "
        f"p99 {report['p99_ms']} ms (target < {TARGET_P99_MS:.0f} ms, goal 50 ms) "
        f"at load {load_before[0]:.1f}"
    )
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
