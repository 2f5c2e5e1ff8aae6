"""A required environment variable removed -> the program crashes at start (KeyError)."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType
from sandbox.faults.edits import (
    base_forbidden,
    container_of,
    smp_container,
)
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, GroundTruth, Symptoms, container_path


def build(ctx: FaultContext) -> FaultPlan:
    """A required environment variable removed -> the program crashes at start (KeyError)."""
    c = ctx.container
    var = next((v.name for v in ctx.image.env if v.required and ctx.env_entry(v.name)), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: no required env var of {ctx.image.reference} is set")
    entry = ctx.env_entry(var)
    field = container_path(c["name"], f"env[{var}]")

    def mutate(doc: Any) -> None:
        container = container_of(doc, c["name"])
        container["env"] = [e for e in container["env"] if e.get("name") != var]

    truth = GroundTruth(
        category=FaultCategory.MISSING_ENV,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=None,
        good_value=entry,
        explanation=f"The container no longer sets {var}, which {ctx.image.repository} requires; it exits "
        f"at start-up with KeyError: '{var}' and crash-loops.",
        fixes=((Check(ctx.target.id, field, "present"),),),
        fix_patch=smp_container(c["name"], {"env": [entry]}),
        forbidden=tuple(base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("CrashLoopBackOff",),
            last_terminated_reason="Error",
            exit_code=1,
            restarts=True,
            event_reasons=("BackOff",),
            log_pattern=f"KeyError: '{var}'",
            metric="kube_pod_container_status_restarts_total",
        ),
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: drop unused environment variable {var}"
    )


FAULT = FaultType("missing_env", FaultCategory.MISSING_ENV, "required env var removed", "git", build)
