"""Benchmark: the sandbox API server at 200 deployments / 2,000 pods.

Measures (1) listing all pods over HTTP, as JSON and as kubectl's Table, and (2) watch event
delivery latency from a store write to the line arriving at an HTTP watch client.
Run: .venv/bin/python bench/bench_apiserver.py   (targets: list < 200 ms, watch p50 < 10 ms)
"""

from __future__ import annotations

import json
import statistics
import threading
import time

import httpx

from sandbox.apiserver import ApiServer
from sandbox.clock import SimClock
from sandbox.resources import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, PODS, Registry
from sandbox.simulation import Simulation
from sandbox.store import Store

DEPLOYMENTS_N, PODS_PER = 200, 10


def _deployment(i: int) -> dict:
    name = f"svc-{i:03d}"
    return {
        "metadata": {"name": name, "namespace": f"team-{i % 10}", "labels": {"app": name}},
        "spec": {
            "replicas": PODS_PER,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "ghcr.io/paramedic-demo/joke-service:1.0.0",
                            "resources": {
                                "requests": {"memory": "8Mi", "cpu": "5m"},
                                "limits": {"memory": "256Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def populate() -> tuple[Store, Registry]:
    """200 deployments brought to 2,000 running pods by the real controllers."""
    clock = SimClock(factor=1.0)
    store = Store(clock=clock.now)
    registry = Registry.with_builtins()
    sim = Simulation(store, registry, clock, seed=1, nodes=40)
    for ns in {f"team-{i % 10}" for i in range(DEPLOYMENTS_N)}:
        store.create(NAMESPACES, {"metadata": {"name": ns}})
    for i in range(DEPLOYMENTS_N):
        store.create(DEPLOYMENTS, _deployment(i))
    started = time.perf_counter()
    for _ in range(30):
        sim.step(5)
    pods, _ = store.list(PODS, copy=False)
    running = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Running")
    print(f"populated {len(pods)} pods ({running} running) in {time.perf_counter() - started:.1f} s")
    sim.close()
    return store, registry


def bench_list(url: str, runs: int = 20) -> dict[str, float]:
    """Median and p95 wall time of a full list, as JSON and as a Table."""
    out = {}
    with httpx.Client(timeout=30) as http:
        for label, headers in (
            ("json", {}),
            ("table", {"accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}),
        ):
            samples = []
            for _ in range(runs):
                t = time.perf_counter()
                resp = http.get(f"{url}/api/v1/pods", headers=headers)
                resp.raise_for_status()
                body = resp.json()
                samples.append((time.perf_counter() - t) * 1000)
            count = len(body.get("items") or body.get("rows") or [])
            samples.sort()
            out[f"list_{label}_p50_ms"] = statistics.median(samples)
            out[f"list_{label}_p95_ms"] = samples[int(len(samples) * 0.95) - 1]
            out[f"list_{label}_items"] = count
    return out


def bench_watch(store: Store, url: str, events: int = 300) -> dict[str, float]:
    """Latency from store.update() to the event line read by an HTTP watch client."""
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = threading.Event()
    done = threading.Event()

    def reader() -> None:
        with (
            httpx.Client(timeout=None) as http,
            http.stream(
                "GET",
                f"{url}/api/v1/namespaces/bench/configmaps?watch=1&resourceVersion={store.resource_version}",
            ) as resp,
        ):
            ready.set()
            for line in resp.iter_lines():
                if not line:
                    continue
                arrived = time.perf_counter()
                name = json.loads(line)["object"]["metadata"]["name"]
                if name in sent:
                    latencies.append((arrived - sent[name]) * 1000)
                if len(latencies) >= events:
                    done.set()
                    return

    store.create(NAMESPACES, {"metadata": {"name": "bench"}})
    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.2)
    for i in range(events):
        name = f"cm-{i}"
        sent[name] = time.perf_counter()
        store.create(CONFIGMAPS, {"metadata": {"name": name, "namespace": "bench"}, "data": {"i": str(i)}})
        time.sleep(0.005)  # a realistic trickle, not a burst
    done.wait(30)
    latencies.sort()
    return {
        "watch_events": len(latencies),
        "watch_p50_ms": statistics.median(latencies),
        "watch_p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }


def main() -> None:
    store, registry = populate()
    server = ApiServer(store, registry)
    url = server.start()
    try:
        results = {**bench_list(url), **bench_watch(store, url)}
    finally:
        server.stop()
    for key, value in results.items():
        print(f"{key:24s} {value:10.2f}" if isinstance(value, float) else f"{key:24s} {value:10d}")


if __name__ == "__main__":
    main()
