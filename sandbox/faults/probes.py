"""The probe faults' shared builder: a readiness or liveness probe moved to a path the program does not
serve (`readiness_probe.py` and `liveness_probe.py` are its two uses)."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan
from sandbox.faults.edits import container_plan, served_paths
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path


def probe_fault(ctx: FaultContext, kind: str) -> FaultPlan:
    """A `kind` ("readiness" | "liveness") probe on an unserved path."""
    c = ctx.container
    spec = ctx.image
    if spec.port is None or not spec.health_path:
        raise FaultNotApplicable(f"{ctx.target.id}: {spec.reference} serves no HTTP health endpoint")
    key = f"{kind}Probe"
    served = served_paths(spec)
    bad_path = next(p for p in ("/ready", "/readyz", "/status", "/live") if p not in served)
    if kind == "liveness":
        bad_path = next(p for p in ("/livez", "/alive", "/health/live") if p not in served)
    good_probe = c.get(key)
    field = container_path(c["name"], f"{key}.httpGet.path")

    def edit(container: Any) -> None:
        if key in container and "httpGet" in container[key]:
            container[key]["httpGet"]["path"] = bad_path
        else:
            container[key] = {"httpGet": {"path": bad_path, "port": spec.port}, "periodSeconds": 10}

    is_readiness = kind == "readiness"
    category = FaultCategory.READINESS_PROBE if is_readiness else FaultCategory.LIVENESS_PROBE
    effect = (
        "the pods run but never become Ready, so the rollout stalls and the Service gets no new endpoints"
        if is_readiness
        else "the kubelet kills and restarts the container over and over"
    )
    symptoms = (
        Symptoms(
            ctx.target.id,
            not_ready=True,
            event_reasons=("Unhealthy",),
            log_pattern=None,
            metric="kube_deployment_status_replicas_unavailable",
        )
        if is_readiness
        else Symptoms(
            ctx.target.id,
            restarts=True,
            event_reasons=("Unhealthy", "Killing"),
            metric="kube_pod_container_status_restarts_total",
        )
    )
    return container_plan(
        ctx,
        category,
        field,
        bad_value=bad_path,
        good_value=(good_probe or {}).get("httpGet", {}).get("path"),
        explanation=f"The {kind} probe asks for {bad_path}, which {spec.repository} answers with 404; "
        f"{effect}.",
        fixes=(
            (Check(ctx.target.id, field, "in", served),),
            (Check(ctx.target.id, container_path(c["name"], key), "absent"),),
        ),
        fix={key: good_probe},
        symptoms=symptoms,
        edit=edit,
        message=f"{ctx.target.name}: move {kind} probe to {bad_path}",
        extra={"served_paths": served},
    )
