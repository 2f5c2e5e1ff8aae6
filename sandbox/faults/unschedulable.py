"""CPU requests no node can satisfy -> Pending, FailedScheduling."""

from __future__ import annotations

import math
from typing import Any

from sandbox.controllers.quantity import cpu_millis
from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path


def _free_cpu_millis(ctx: FaultContext) -> int:
    """The most CPU any one node could still give the target's pods (its own pods' requests freed)."""
    own = {p["metadata"]["name"] for p in ctx.pods}
    best = 0
    for node in ctx.nodes:
        name = node["metadata"]["name"]
        allocatable = cpu_millis((node.get("status") or {}).get("allocatable", {}).get("cpu", "0"))
        used = sum(
            cpu_millis(((c.get("resources") or {}).get("requests") or {}).get("cpu", "0"))
            for p in ctx.all_pods
            if (p.get("spec") or {}).get("nodeName") == name and p["metadata"]["name"] not in own
            for c in (p.get("spec") or {}).get("containers") or []
        )
        best = max(best, allocatable - used)
    return best


def build(ctx: FaultContext) -> FaultPlan:
    """CPU requests no node can satisfy -> Pending, FailedScheduling."""
    c = ctx.container
    biggest = max(
        (cpu_millis((n.get("status") or {}).get("allocatable", {}).get("cpu", "0")) for n in ctx.nodes),
        default=4000,
    )
    bad = str(max(16, math.ceil(biggest / 1000) * 4))
    free = _free_cpu_millis(ctx) or biggest // 2
    requests = (c.get("resources") or {}).get("requests") or {}
    good = requests.get("cpu")
    field = container_path(c["name"], "resources.requests.cpu")

    def edit(container: Any) -> None:
        container.setdefault("resources", {}).setdefault("requests", {})["cpu"] = bad

    return container_plan(
        ctx,
        FaultCategory.UNSCHEDULABLE,
        field,
        bad_value=bad,
        good_value=good,
        explanation=f"The pods request {bad} CPUs; no node has that much allocatable CPU, so the scheduler "
        f"leaves them Pending (FailedScheduling: Insufficient cpu).",
        fixes=(
            (Check(ctx.target.id, field, "quantity_lte", f"{free}m"),),
            (Check(ctx.target.id, field, "absent"),),
        ),
        fix={"resources": {"requests": {"cpu": good}}},
        symptoms=Symptoms(
            ctx.target.id,
            pod_phase="Pending",
            event_reasons=("FailedScheduling",),
            metric='kube_pod_status_phase{phase="Pending"}',
        ),
        edit=edit,
        message=f"{ctx.target.name}: reserve {bad} CPUs for peak load",
        extra={"largest_free_cpu": f"{free}m"},
    )


FAULT = FaultType(
    "unschedulable", FaultCategory.UNSCHEDULABLE, "CPU requests no node can satisfy", "git", build
)
