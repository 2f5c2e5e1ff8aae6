"""The chat agent's read-only cluster tools against the sandbox: a workload's status and events,
clear errors for unknown workloads and bad arguments, and a plain refusal without a cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.cluster import Sandbox
from server.chat.read_tools import run_chat_tool
from tools.kubernetes import KubeClient


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KubeClient]:
    with Sandbox(workdir=tmp_path_factory.mktemp("sb"), seed=2, background=False) as sb:
        sb.wait_healthy(timeout=30)
        sb.inject("bad_image", "shop/deploy/web-api")
        sb.advance(60)
        client = KubeClient.from_config(str(sb.kubeconfig_path))
        yield client
        client.close()


def test_status_and_events_of_a_failing_workload(kube: KubeClient, store) -> None:
    status = run_chat_tool(store, "workload_status", {"namespace": "shop", "name": "web-api"}, kube=kube)
    assert status.data["name"] == "web-api"
    reasons = {c["reason"] for p in status.data["pods"] for c in p["containers"]}
    assert reasons & {"ErrImagePull", "ImagePullBackOff"}
    events = run_chat_tool(
        store, "workload_events", {"namespace": "shop", "name": "web-api", "limit": 5}, kube=kube
    )
    assert 0 < len(events.data) <= 5
    assert any("pull" in (e.get("reason", "") + e.get("message", "")).lower() for e in events.data)


def test_unknown_workloads_bad_arguments_and_no_cluster_are_errors(kube: KubeClient, store) -> None:
    missing = run_chat_tool(store, "workload_status", {"namespace": "shop", "name": "nope"}, kube=kube)
    assert "error" in missing.data and "nope" in missing.data["error"]
    bad = run_chat_tool(
        store, "workload_status", {"namespace": "shop", "name": "web-api", "kind": "Secret"}, kube=kube
    )
    assert "invalid arguments" in bad.data["error"]
    offline = run_chat_tool(store, "workload_events", {"namespace": "shop", "name": "web-api"})
    assert offline.data == {"error": "this Paramedic has no cluster connection to read from"}
