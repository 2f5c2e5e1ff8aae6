"""A required environment variable removed -> the program crashes at start (KeyError)."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path


def build(ctx: FaultContext) -> FaultPlan:
    """A required environment variable removed -> the program crashes at start (KeyError)."""
    c = ctx.container
    var = next((v.name for v in ctx.image.env if v.required and ctx.env_entry(v.name)), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: no required env var of {ctx.image.reference} is set")
    entry = ctx.env_entry(var)
    field = container_path(c["name"], f"env[{var}]")

    def edit(container: Any) -> None:
        container["env"] = [e for e in container["env"] if e.get("name") != var]

    return container_plan(
        ctx,
        FaultCategory.MISSING_ENV,
        field,
        bad_value=None,
        good_value=entry,
        explanation=f"The container no longer sets {var}, which {ctx.image.repository} requires; it exits "
        f"at start-up with KeyError: '{var}' and crash-loops.",
        fixes=((Check(ctx.target.id, field, "present"),),),
        fix={"env": [entry]},
        symptoms=Symptoms.crash_loop(ctx.target.id, "Error", 1, log_pattern=f"KeyError: '{var}'"),
        edit=edit,
        message=f"{ctx.target.name}: drop unused environment variable {var}",
    )


FAULT = FaultType("missing_env", FaultCategory.MISSING_ENV, "required env var removed", "git", build)
