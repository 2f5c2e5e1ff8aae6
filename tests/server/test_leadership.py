"""Leader election over a Lease in the sandbox's API server: one leader, hand-over on stop and on silence."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kubernetes import client as k8s
from kubernetes.client.rest import ApiException

from agent.config import HASettings
from sandbox.cluster import Sandbox
from server.leadership import Leadership
from tests.polling import eventually
from tools.kubernetes.client import KubeClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAST = HASettings(
    enabled=True, lease_duration_seconds=3, renew_deadline_seconds=2, retry_period_seconds=1,
    heartbeat_seconds=0.5, owner_timeout_seconds=2,
)  # fmt: skip


@pytest.fixture
def kube() -> Iterator[KubeClient]:
    cluster = Sandbox(background=False).start()
    client = KubeClient.from_config(str(cluster.kubeconfig_path))
    k8s.CoreV1Api(client.api).create_namespace({"metadata": {"name": "paramedic"}})
    try:
        yield client
    finally:
        client.close()
        cluster.stop()


class _Candidate:
    def __init__(self, kube: KubeClient, name: str, leaders: list[str], lock: threading.Lock) -> None:
        def started() -> None:
            with lock:
                leaders.append(name)

        def stopped() -> None:
            with lock:
                leaders.remove(name)

        self.election = Leadership(kube.api, FAST, name, started, stopped)


def test_the_sandbox_refuses_a_stale_lease_update(kube: KubeClient) -> None:
    # What leader election stands on: optimistic concurrency on the Lease's resourceVersion.
    api = k8s.CoordinationV1Api(kube.api)
    api.create_namespaced_lease(
        "paramedic", k8s.V1Lease(metadata={"name": "l"}, spec={"holderIdentity": "a"})
    )
    first, second = (api.read_namespaced_lease("l", "paramedic") for _ in range(2))
    first.spec.holder_identity = "a2"
    api.replace_namespaced_lease("l", "paramedic", first)
    second.spec.holder_identity = "b"
    with pytest.raises(ApiException) as refused:
        api.replace_namespaced_lease("l", "paramedic", second)
    assert refused.value.status == 409


def _a_leads(kube: KubeClient) -> tuple[Leadership, Leadership, list[str]]:
    """Candidates a and b, and the leaders list they keep; a started and leading, b not started."""
    leaders: list[str] = []
    lock = threading.Lock()
    a, b = (_Candidate(kube, name, leaders, lock).election for name in ("a", "b"))
    a.start()
    assert eventually(lambda: a.is_leader, 10)
    return a, b, leaders


def test_one_leader_and_a_prompt_hand_over_on_stop(kube: KubeClient) -> None:
    a, b, leaders = _a_leads(kube)
    b.start()
    time.sleep(2.5)  # b competes for several retry periods and must not take the live lease
    assert leaders == ["a"] and not b.is_leader
    stopped_at = time.monotonic()
    a.stop()
    assert not a.is_leader and "a" not in leaders
    assert eventually(lambda: b.is_leader, 5)
    # Handed back, not expired: b takes over within about one retry period, not a lease duration.
    assert time.monotonic() - stopped_at < FAST.lease_duration_seconds
    b.stop()
    assert leaders == []


def test_a_silent_leader_is_replaced_after_its_lease(kube: KubeClient) -> None:
    a, b, _ = _a_leads(kube)
    b.start()
    a._stopped.set()
    assert eventually(lambda: b.is_leader, FAST.lease_duration_seconds + 3 * FAST.retry_period_seconds)
    b.stop()
    a.stop()
