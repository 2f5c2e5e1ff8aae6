"""Memory limit cut below what the program needs -> OOMKilled, CrashLoopBackOff."""

from __future__ import annotations

import math
from typing import Any

from sandbox.controllers.quantity import MI, memory_bytes
from sandbox.faults.context import FaultContext, FaultPlan, FaultType, Obj
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, Symptoms, container_path
from sandbox.images import memory_need_mib


def build(ctx: FaultContext) -> FaultPlan:
    """Memory limit cut below what the program needs -> OOMKilled, CrashLoopBackOff."""
    c = ctx.container
    need = memory_need_mib(ctx.image, ctx.resolved_env())
    bad_mib = max(16, int(need * 0.35) // 16 * 16)
    bad = f"{bad_mib}Mi"
    limits = (c.get("resources") or {}).get("limits") or {}
    requests = (c.get("resources") or {}).get("requests") or {}
    good = limits.get("memory")
    lower_request = requests.get("memory") and memory_bytes(requests["memory"]) > bad_mib * MI
    enough = f"{math.ceil(need * 1.1)}Mi"
    field = container_path(c["name"], "resources.limits.memory")

    def edit(container: Any) -> None:
        res = container.setdefault("resources", {})
        res.setdefault("limits", {})["memory"] = bad
        if lower_request:
            res["requests"]["memory"] = bad

    restore: Obj = {"limits": {"memory": good}} if good else {"limits": {"memory": None}}
    if lower_request:
        restore["requests"] = {"memory": requests["memory"]}
    return container_plan(
        ctx,
        FaultCategory.OOM,
        field,
        bad_value=bad,
        good_value=good,
        explanation=f"The memory limit {bad} is below the ~{round(need)}Mi {ctx.image.reference} needs, "
        f"so the container is OOMKilled (exit 137) at start-up and crash-loops.",
        fixes=(
            (Check(ctx.target.id, field, "quantity_gte", enough),),
            (Check(ctx.target.id, field, "absent"),),
        ),
        fix={"resources": restore},
        forbidden=(
            Forbidden("patch", ctx.target.id, "a lower memory limit only makes it die sooner", field=field),
        ),
        symptoms=Symptoms.crash_loop(
            ctx.target.id,
            "OOMKilled",
            137,
            metric='kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}',
        ),
        edit=edit,
        message=f"{ctx.target.name}: trim memory limit to {bad} to save costs",
        extra={"memory_need_mib": round(need, 1), "enough": enough},
    )


FAULT = FaultType("oom", FaultCategory.OOM, "memory limit below the program's need", "git", build)
