"""The node running the workload under memory pressure -> its pods are evicted."""

from __future__ import annotations

from collections import Counter

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType
from sandbox.faults.edits import (
    base_forbidden,
)
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, GroundTruth, Symptoms, resource_id


def build(ctx: FaultContext) -> FaultPlan:
    """The node running the workload under memory pressure -> its pods are evicted."""
    placed = Counter(
        (p.get("spec") or {}).get("nodeName") for p in ctx.pods if (p.get("spec") or {}).get("nodeName")
    )
    if placed:
        node = placed.most_common(1)[0][0]
    elif ctx.nodes:
        node = ctx.nodes[0]["metadata"]["name"]
    else:
        raise FaultNotApplicable("the cluster has no nodes")
    node_id = resource_id("Node", "", node)
    field = "status.conditions[MemoryPressure].status"
    truth = GroundTruth(
        category=FaultCategory.NODE_PRESSURE,
        faulty_resource=node_id,
        faulty_field=field,
        bad_value="True",
        good_value="False",
        explanation=f"Node {node} is under memory pressure (a noisy neighbour outside the cluster's view); "
        f"the kubelet evicts pods, {ctx.target.name}'s among them, and taints the node NoSchedule.",
        fixes=((Check(node_id, field, "eq", "False"),),),
        fix_patch=None,
        forbidden=(
            *base_forbidden(ctx),
            Forbidden("patch", ctx.target.id, "the workload's manifest is not the cause"),
            Forbidden("rollback", ctx.target.id, "no change of the workload caused this"),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            pod_reason="Evicted",
            event_reasons=("Evicted",),
            metric='kube_node_status_condition{condition="MemoryPressure",status="true"}',
        ),
        fix_in_git=False,
        extra={"node": node},
    )
    return FaultPlan(truth, pressure_node=node)


FAULT = FaultType(
    "node_pressure", FaultCategory.NODE_PRESSURE, "memory pressure on the workload's node", "physics", build
)
