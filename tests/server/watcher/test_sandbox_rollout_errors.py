"""Errors after a rollout on the sandbox's physics: a rejected config value is one incident, a
harmless rollout of an app with its own background 5xx is none.

The sandbox runs stepped and in-process; the watcher gets the store's listing, then its change
feed, and reads logs from the sandbox's log store (what `pods/log` serves).
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as k8s

from agent.config import ScopeSettings
from agent.domain import Incident, WorkloadRef
from server.watcher.rollout_errors import ERROR_RATE_AFTER_ROLLOUT
from server.watcher.watcher import Watcher
from tests.sandboxes import running
from tests.server.watcher.driving import feed, specs_of, step

pytestmark = pytest.mark.e2e

SPECS = specs_of(("Pod", "Deployment"))


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from sandbox.cluster import Sandbox

    with running(Sandbox(tmp_path_factory.mktemp("sandbox"), seed=5, background=False, serve=False)) as box:
        yield box


def _watch(sandbox: Any, change: Any, sim_seconds: float = 400) -> list[Incident]:
    """Incidents the watcher opens while `change()` rolls something out."""
    from sandbox.resources import DEPLOYMENTS, PODS, REPLICASETS

    def logs(namespace: str, pod: str, container: str, tail_lines: int) -> str:
        lines = sandbox.simulation.logs.read(namespace, pod, container)
        return "\n".join(text for _, text in lines[-tail_lines:])

    watcher = Watcher(
        k8s.ApiClient(k8s.Configuration()),
        ScopeSettings(grace_period_seconds=60, restart_threshold=3),
        lambda i: None,
        sandbox.clock.now,
        reader=lambda kind, ns, name: sandbox.store.find(REPLICASETS, ns, name),
        logs=logs,
    )
    events: queue.Queue[Any] = queue.Queue()
    sub = sandbox.store.subscribe(events.put)
    try:
        sandbox.advance(600)  # the shop's own start-up rollouts are long past
        for kind, rt in (("Pod", PODS), ("Deployment", DEPLOYMENTS)):
            watcher.on_list(SPECS[kind], sandbox.store.list(rt)[0])
        undo = change()
        incidents: list[Incident] = []
        elapsed = 0.0
        while elapsed < sim_seconds:
            tick = 1 if elapsed < 20 else 5  # a live watcher sees the rollout start at once
            sandbox.advance(tick)
            elapsed += tick
            feed(watcher, SPECS, events)
            incidents += step(watcher, sandbox.clock.now())
        assert watcher.backlog() == 0
    finally:
        sandbox.store.unsubscribe(sub)
        undo()
        sandbox.wait_healthy(timeout=120)
    return incidents


def test_a_rejected_config_value_after_a_rollout_is_one_incident_with_its_baseline(sandbox: Any) -> None:
    injected: list[Any] = []

    def change() -> Any:
        injected.append(sandbox.inject("bad_config_value", "shop/deploy/joke-service"))
        return lambda: sandbox.clear(injected[0])

    incidents = _watch(sandbox, change)
    mine = [i for i in incidents if i.reason == ERROR_RATE_AFTER_ROLLOUT]
    assert [i.target for i in mine] == [WorkloadRef.parse("shop/deploy/joke-service")], [
        (str(i.target), i.reason, i.summary) for i in incidents
    ]
    summary = mine[0].summary
    assert "before it" in summary and "no baseline" not in summary, summary  # the old pods were read
    assert "knock-knock" in summary or "unsupported value" in summary or "500" in summary, summary


def test_a_harmless_rollout_of_an_app_with_background_errors_opens_nothing(sandbox: Any) -> None:
    def change() -> Any:
        patch = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "joke-service", "env": [{"name": "JOKE_CATEGORY", "value": "dad"}]}
                        ]
                    }
                }
            }
        }
        sandbox.commit_patch("Deployment shop/joke-service", patch, "joke-service: dad jokes")
        return lambda: None

    incidents = _watch(sandbox, change)
    assert [i for i in incidents if i.reason == ERROR_RATE_AFTER_ROLLOUT] == []
