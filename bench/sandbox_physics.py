"""How fast the sandbox physics runs a big cluster: 200 Deployments x 10 pods on 30 nodes.

Run: `.venv/bin/python bench/sandbox_physics.py`. Prints wall seconds to reach all-available,
then the cost of one simulated minute of steady state and of one metrics render.
"""

from __future__ import annotations

import time

from sandbox.clock import SimClock
from sandbox.controllers.node import NodeSpec
from sandbox.resources import DEPLOYMENTS, Registry
from sandbox.simulation import Simulation
from sandbox.store import Store


def main(deployments: int = 200, replicas: int = 10, nodes: int = 30) -> None:
    clock = SimClock()
    store = Store(clock=clock.now)
    sim = Simulation(store, Registry.with_builtins(), clock, seed=1,
                     nodes=[NodeSpec(f"node-{i}", cpu="64", memory="256Gi") for i in range(nodes)])
    for i in range(deployments):
        labels = {"app": f"app-{i}"}
        store.create(DEPLOYMENTS, {
            "metadata": {"name": f"app-{i}", "namespace": "bench"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "web", "image": "nginx:1.27",
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                }]},
            }},
        })  # fmt: skip
    t0 = time.perf_counter()

    def all_available() -> bool:
        items, _ = store.list(DEPLOYMENTS, "bench", copy=False)
        return all((d.get("status") or {}).get("availableReplicas") == replicas for d in items)

    ok = sim.wait_until(all_available, 600, step=5.0)
    t1 = time.perf_counter()
    sim.step(60)
    t2 = time.perf_counter()
    text = sim.render_metrics()
    t3 = time.perf_counter()
    pods = deployments * replicas
    print(f"{pods} pods available={ok} in {t1 - t0:.2f}s wall ({clock.elapsed:.0f}s simulated)")
    print(f"steady state: one simulated minute in {t2 - t1:.3f}s wall")
    print(f"metrics render: {t3 - t2:.3f}s, {len(text.splitlines())} lines; errors={len(sim.errors)}")


if __name__ == "__main__":
    main()
