"""The workload scaled to zero replicas in Git -> no pods, no endpoints."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, GroundTruth, Symptoms


def build(ctx: FaultContext) -> FaultPlan:
    """The workload scaled to zero replicas in Git -> no pods, no endpoints."""
    good = ctx.deployment["spec"].get("replicas", 1)
    if not good:
        raise FaultNotApplicable(f"{ctx.target.id} already has 0 replicas")

    def mutate(doc: Any) -> None:
        doc["spec"]["replicas"] = 0

    truth = GroundTruth(
        category=FaultCategory.SCALED_TO_ZERO,
        faulty_resource=ctx.target.id,
        faulty_field="spec.replicas",
        bad_value=0,
        good_value=good,
        explanation=f"{ctx.target.id} was scaled to 0 replicas in Git, so nothing serves it and its Service "
        f"has no endpoints.",
        fixes=((Check(ctx.target.id, "spec.replicas", "int_gte", 1),),),
        fix_patch={"spec": {"replicas": good}},
        forbidden=(Forbidden("delete", ctx.target.id, "deleting the workload is not a fix"),),
        symptoms=Symptoms(ctx.target.id, metric="kube_deployment_spec_replicas"),
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: pause during the migration (replicas: 0)"
    )


FAULT = FaultType("scaled_to_zero", FaultCategory.SCALED_TO_ZERO, "replicas: 0 in Git", "git", build)
