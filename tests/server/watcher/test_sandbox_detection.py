"""Detection and folding on the objects the sandbox's physics really produces, fault by fault.

The sandbox runs stepped and in-process (no API server): its store's change feed is handed to
the watcher's stream handler exactly as a watch stream would, and owners are read from the store.
This pins what the watcher makes of each failure mode; test_streams.py covers the HTTP path.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef
from server.watcher import detect as d
from server.watcher.watcher import Watcher
from tests.sandboxes import running
from tests.server.watcher.driving import drain, feed, specs_of, step

pytestmark = pytest.mark.e2e

KINDS = ("Pod", "Deployment", "Application")
SPECS = specs_of(KINDS)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sandbox.cluster import Sandbox

    with running(Sandbox(tmp_path_factory.mktemp("sandbox"), seed=11, background=False, serve=False)) as box:
        yield box


def _watch_fault(sandbox: Any, fault: str, target: str, sim_seconds: float = 600) -> list[Incident]:
    from sandbox.resources import REPLICASETS

    def read(kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        assert kind in ("ReplicaSet", "Job")
        return sandbox.store.find(REPLICASETS, namespace, name)

    settings = ScopeSettings(grace_period_seconds=60, restart_threshold=3)
    watcher = Watcher(
        k8s.ApiClient(k8s.Configuration()), settings, lambda i: None, sandbox.clock.now, reader=read
    )
    events: queue.Queue[Any] = queue.Queue()
    sub = sandbox.store.subscribe(events.put)  # callbacks run under the store lock: only queue
    incidents: list[Incident] = []
    injected = sandbox.inject(fault, target)
    try:
        elapsed = 0.0
        while elapsed < sim_seconds and not incidents:
            sandbox.advance(5)
            elapsed += 5
            feed(watcher, SPECS, events)
            incidents += step(watcher, sandbox.clock.now())
        sandbox.advance(120)  # the storm goes on: nothing new while the first run is active
        feed(watcher, SPECS, events)
        incidents += drain(watcher)
    finally:
        sandbox.store.unsubscribe(sub)
        sandbox.clear(injected)
        sandbox.wait_healthy(timeout=120)
    return incidents


@pytest.mark.parametrize(
    ("fault", "target", "reasons"),
    [
        ("oom", "shop/deploy/web-api", {d.OOM_KILLED}),
        ("bad_image", "shop/deploy/worker", {d.IMAGE_PULL}),
        ("missing_config_key", "shop/deploy/web-api", {d.CONFIG_ERROR}),
        ("missing_env", "shop/deploy/worker", {d.CRASH_LOOP}),
        ("readiness_probe", "shop/deploy/joke-service", {d.NOT_READY, d.UNAVAILABLE_REPLICAS}),
        ("liveness_probe", "shop/deploy/web-api", {d.FREQUENT_RESTARTS, d.CRASH_LOOP}),
        ("unschedulable", "shop/deploy/worker", {d.UNSCHEDULABLE}),
        ("bad_command", "shop/deploy/joke-service", {d.CRASH_LOOP, d.RUN_ERROR, d.CREATE_ERROR}),
    ],
)
def test_each_fault_becomes_one_incident_for_its_workload(
    sandbox: Any, fault: str, target: str, reasons: set[str]
) -> None:
    incidents = _watch_fault(sandbox, fault, target)
    wanted = WorkloadRef.parse(target)
    mine = [i for i in incidents if i.target == wanted]
    assert len(mine) == 1, [(str(i.target), i.reason, i.summary) for i in incidents]
    assert mine[0].reason in reasons, (mine[0].reason, mine[0].summary)
