"""`health.judge`: healthy only when the rollout is complete and every live pod serves."""

from __future__ import annotations

from typing import Any

import pytest

from graph.workload_health import judge
from tools.kubernetes import WorkloadStatus
from tools.kubernetes.status import ContainerStatus, PodStatus


def pod(name: str = "web-api-1", ready: bool = True, **extra: Any) -> PodStatus:
    container = ContainerStatus(name="app", ready=ready, state="running")
    return PodStatus(
        name=name, namespace="shop", phase="Running", ready=ready, containers=[container], **extra
    )


def status(**extra: Any) -> WorkloadStatus:
    values: dict[str, Any] = {
        "kind": "Deployment",
        "namespace": "shop",
        "name": "web-api",
        "generation": 4,
        "observed_generation": 4,
        "desired": 2,
        "current": 2,
        "ready": 2,
        "available": 2,
        "updated": 2,
        "pods": [pod("web-api-1"), pod("web-api-2")],
    }
    values.update(extra)
    return WorkloadStatus(**values)


def test_a_complete_rollout_with_ready_pods_is_healthy() -> None:
    health = judge(status())
    assert health.healthy and health.problems == ()
    assert health.detail == "rollout complete, all pods ready"


def test_an_incomplete_rollout_is_unhealthy() -> None:
    health = judge(status(updated=1, available=1))
    assert not health.healthy
    assert "1/2 replicas updated" in health.problems and "1/2 replicas available" in health.problems


def test_a_waiting_container_is_named_with_its_reason() -> None:
    waiting = ContainerStatus(name="app", state="waiting", reason="ImagePullBackOff")
    bad = PodStatus(name="web-api-3", namespace="shop", phase="Pending", containers=[waiting])
    health = judge(status(pods=[pod("web-api-1"), bad]))
    assert not health.healthy
    assert health.problems[0] == "pod web-api-3 container app is waiting: ImagePullBackOff"
    assert not any("web-api-3 is not ready" in p for p in health.problems), (
        "the waiting reason says it better"
    )


def test_an_unready_pod_is_unhealthy_even_when_the_counts_look_fine() -> None:
    health = judge(status(pods=[pod("web-api-1"), pod("web-api-2", ready=False)]))
    assert not health.healthy
    assert health.problems == ("pod web-api-2 is not ready (Running)",)


def test_a_deleting_pod_does_not_count() -> None:
    assert judge(
        status(pods=[pod("web-api-1"), pod("web-api-2"), pod("old", ready=False, deleting=True)])
    ).healthy


def test_scaled_to_zero_is_never_healthy() -> None:
    health = judge(status(desired=0, current=0, ready=0, available=0, updated=0, pods=[]))
    assert not health.healthy and health.problems == ("scaled to zero: no replica serves",)


def test_no_desired_count_is_unhealthy() -> None:
    assert not judge(status(desired=None)).healthy


def test_old_replicas_still_running_are_unhealthy() -> None:
    health = judge(status(current=3))
    assert not health.healthy and health.problems == ("1 old replica(s) still running",)


def test_unavailable_replicas_are_unhealthy() -> None:
    assert judge(status(unavailable=1)).problems == ("1 replica(s) unavailable",)


def test_a_spec_not_yet_observed_is_unhealthy() -> None:
    health = judge(status(generation=5, observed_generation=4))
    assert health.problems == ("the controller has not seen the latest spec yet",)


def test_a_paused_rollout_is_unhealthy() -> None:
    assert judge(status(paused=True)).problems == ("the rollout is paused",)


@pytest.mark.parametrize("field", ["ready", "available", "updated"])
def test_missing_counts_are_zero(field: str) -> None:
    health = judge(status(**{field: None}))
    assert health.problems == (f"0/2 replicas {field}",)
