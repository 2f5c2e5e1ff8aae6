"""The cluster's nodes as scheduling sees them (tools/kubernetes/nodes) and each revision's ready pods."""

from __future__ import annotations

from tests.tools.kubernetes.builders import deployment, replica_set
from tests.tools.kubernetes.conftest import Answer, FakeApi
from tools.kubernetes.client import KubeClient
from tools.kubernetes.nodes import MAX_NODES, cluster_nodes, node_info
from tools.kubernetes.rollouts import history_of


def _node(name: str, labels: dict, **spec) -> dict:
    return {
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {
            "allocatable": {"cpu": "2", "memory": "3906Mi", "pods": 110},
            "capacity": {"cpu": "2", "memory": "4Gi"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"}
            ],
        },
    }


def test_cluster_nodes_reads_labels_taints_and_cordons(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    items = [
        _node(
            "node-b",
            {"disktype": "hdd"},
            taints=[{"key": "dedicated", "value": "db", "effect": "NoSchedule"}],
        ),
        _node("node-a", {"disktype": "ssd", "zone": "eu-1a"}, unschedulable=True),
    ]
    fake_api.on("GET", "/api/v1/nodes", Answer(200, {"kind": "NodeList", "items": items}))
    result = cluster_nodes(fake_kube)
    assert result.ok, result.error
    nodes = result.data
    assert nodes is not None and [n.name for n in nodes] == ["node-a", "node-b"]
    a, b = nodes
    assert a.labels == {"disktype": "ssd", "zone": "eu-1a"} and a.unschedulable
    assert b.taints == [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}] and not b.unschedulable
    assert a.allocatable["pods"] == "110" and a.conditions[0].type == "MemoryPressure"
    assert fake_api.requests("GET")[-1].query["limit"] == [str(MAX_NODES)]


def test_cluster_nodes_forbidden_is_an_error_not_a_crash(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    fake_api.on("GET", "/api/v1/nodes", Answer(403, {"kind": "Status", "reason": "Forbidden", "code": 403}))
    result = cluster_nodes(fake_kube)
    assert not result.ok and result.error


def test_node_info_tolerates_garbage() -> None:
    info = node_info(
        {"metadata": {"labels": "nope"}, "spec": {"taints": ["x", {"key": "k"}]}, "status": None}
    )
    assert info.labels == {} and info.taints == [{"key": "k"}] and not info.unschedulable


def test_each_revision_says_how_many_of_its_pods_are_ready() -> None:
    old = replica_set("web-old11", 1, "shop/web:1.1", replicas=2)
    old["status"] = {"replicas": 2, "readyReplicas": 2}
    new = replica_set("web-abc12", 2, "shop/web:1.2", replicas=1)
    new["status"] = {"replicas": 1, "readyReplicas": 0}
    history = history_of(deployment(revision=2), [old, new])
    one, two = history.get(1), history.get(2)
    assert one is not None and (one.replicas, one.ready_replicas) == (2, 2)
    assert two is not None and two.ready_replicas == 0
