"""The cluster's nodes as the scheduler matches them: labels, taints, allocatable, conditions.

Read when a pod cannot be placed or was evicted: a nodeSelector or affinity that no node satisfies
is told apart from a near miss (a label value one typo away) only by the labels nodes really have.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.status import Condition
from tools.result import ToolResult, TraceSink, discard

CLUSTER_NODES_TOOL = "kubernetes.cluster_nodes"
MAX_NODES = 100  # a listing beyond this is cut (and says so): evidence stays bounded


class NodeInfo(BaseModel):
    """One node: what scheduling looks at."""

    model_config = ConfigDict(frozen=True)

    name: str
    labels: dict[str, str] = {}
    taints: list[dict[str, str]] = []
    allocatable: dict[str, str] = {}
    capacity: dict[str, str] = {}
    conditions: list[Condition] = []
    unschedulable: bool = False


def _strings(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def node_info(node: Obj) -> NodeInfo:
    """A Node object read into what scheduling looks at."""
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    taints = [
        {k: str(t[k]) for k in ("key", "value", "effect") if t.get(k) is not None}
        for t in spec.get("taints") or []
        if isinstance(t, dict)
    ]
    conditions = [
        Condition(
            type=str(c.get("type", "")),
            status=str(c.get("status", "")),
            reason=str(c.get("reason") or ""),
            message=str(c.get("message") or ""),
            last_transition=str(c.get("lastTransitionTime") or ""),
        )
        for c in status.get("conditions") or []
        if isinstance(c, dict)
    ]
    return NodeInfo(
        name=str(meta.get("name", "")),
        labels=_strings(meta.get("labels")),
        taints=taints,
        allocatable=_strings(status.get("allocatable")),
        capacity=_strings(status.get("capacity")),
        conditions=conditions,
        unschedulable=spec.get("unschedulable") is True,
    )


def read_cluster_nodes(kube: KubeClient) -> list[NodeInfo]:
    """Every node (at most `MAX_NODES`), by name (raises `ToolFailure`)."""
    listing = kube.json("nodes", kube.core.list_node, limit=MAX_NODES)
    nodes = [node_info(item) for item in listing.get("items") or [] if isinstance(item, dict)]
    return sorted(nodes, key=lambda n: n.name)


def cluster_nodes(kube: KubeClient, *, sink: TraceSink = discard) -> ToolResult[list[NodeInfo]]:
    """The cluster's nodes with their labels, taints, allocatable resources and conditions."""
    return kube.run(
        CLUSTER_NODES_TOOL,
        {},
        lambda: read_cluster_nodes(kube),
        sink,
        summarize=lambda nodes: f"{len(nodes)} nodes",
    )
