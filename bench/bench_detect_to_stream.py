"""Time from a pod's failure to the first event of its run on the SSE stream, on the real service.

The service is what `paramedic serve --sandbox` assembles (`server.assembly.build_service`: the
watcher, the run service, the API) with uvicorn on loopback; an SSE client follows
`/api/v1/events`. For each fault, the clock starts when the sandbox's store first shows a pod of
the workload failing (a waiting reason like ErrImagePull or CrashLoopBackOff, or an OOMKilled
termination) and stops when the client reads the run's first event. Detection needs the failure
to be seen as a failure (CrashLoopBackOff after a restart or two), so "failure" is the moment the
watcher could first know, not the injection.

Run: `.venv/bin/python bench/bench_detect_to_stream.py` (about a minute). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import json
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from agent.config import Mode, Settings
from graph.breaker import InMemoryBreakerStore
from paramedic.sandbox_wiring import sandbox_settings, sim_clock
from sandbox.cluster import Sandbox
from sandbox.resources import PODS
from server.assembly import build_service
from server.runstore import open_run_store
from tools.kubernetes import KubeClient

FAULTS = [
    ("bad_image", "web-api"),
    ("missing_env", "worker"),
    ("bad_command", "joke-service"),
    ("bad_image", "worker"),
    ("missing_env", "web-api"),
]
_FAILING = {"ErrImagePull", "ImagePullBackOff", "CrashLoopBackOff", "CreateContainerConfigError", "Error"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _failing(sb: Sandbox, name: str) -> bool:
    pods, _ = sb.store.list(PODS, copy=False)
    for pod in pods:
        if pod["metadata"].get("namespace") != "shop" or not pod["metadata"]["name"].startswith(name + "-"):
            continue
        for status in (pod.get("status") or {}).get("containerStatuses") or []:
            state = status.get("state") or {}
            reason = (state.get("waiting") or state.get("terminated") or {}).get("reason")
            if reason in _FAILING or reason == "OOMKilled":
                return True
    return False


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-detect-"))
    latencies: list[float] = []
    with Sandbox(workdir=work / "sb", seed=3) as sb:
        sb.wait_healthy(timeout=60)
        settings = sandbox_settings(Settings(), sb, work / "data", mode=Mode.REPORT)
        store = open_run_store(settings.resolved_storage_url())
        kube = KubeClient.from_config(str(sb.kubeconfig_path))
        app, stack = build_service(
            settings, store, kube, clock=sim_clock(sb), sleep=sb.advance, breaker_store=InMemoryBreakerStore()
        )
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        stack.start()
        base = f"http://127.0.0.1:{port}"
        for fault, name in FAULTS:
            first_event: dict[str, float] = {}
            known = {r.id for r in store.list_runs(limit=200).items}

            def follow(
                name: str = name, first_event: dict[str, float] = first_event, known: set[str] = known
            ) -> None:
                with httpx.stream(
                    "GET", f"{base}/api/v1/events", timeout=httpx.Timeout(60, read=60)
                ) as stream:
                    for line in stream.iter_lines():
                        if line.startswith("data:"):
                            run = store.get_run(json.loads(line[5:])["run_id"])
                            if run.id not in known and run.target.name == name:
                                first_event["t"] = time.monotonic()
                                return

            follower = threading.Thread(target=follow, daemon=True)
            follower.start()
            time.sleep(0.3)  # the subscription is open before anything can fail
            fault_record = sb.inject(fault, f"shop/deploy/{name}")
            failed_at = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "t" not in first_event:
                if failed_at is None and _failing(sb, name):
                    failed_at = time.monotonic()
                time.sleep(0.005)
            follower.join(timeout=5)
            if failed_at is not None and "t" in first_event:
                latencies.append(first_event["t"] - failed_at)
                print(f"{fault:<12} {name:<13} failure -> first SSE event: {latencies[-1] * 1000:7.0f} ms")
            else:
                print(f"{fault:<12} {name:<13} no measurement (failed_at={failed_at}, event={first_event})")
            stack.runs.wait_idle(60)
            sb.clear(fault_record)
            sb.wait_healthy(timeout=60)
        stack.stop()
        server.should_exit = True
        kube.close()
        store.close()
    if latencies:
        p50, worst = statistics.median(latencies) * 1000, max(latencies) * 1000
        print(f"p50 {p50:.0f} ms, max {worst:.0f} ms, n={len(latencies)}")


if __name__ == "__main__":
    main()
