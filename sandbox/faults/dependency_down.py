"""The Deployment behind a dependency scaled to zero -> connection refused, 5xx in the dependant."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType, Obj
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, GroundTruth, Symptoms, resource_id


def _dependency_deployment(ctx: FaultContext) -> tuple[str, str, Obj, str]:
    """(env var, Service name, backing Deployment, its id) of the target's first reachable dependency."""
    for var in ctx.image.env:
        if not var.dependency:
            continue
        value = ctx.env_value(var.name)
        host = urlsplit(value).hostname if value else None
        if not host:
            continue
        labels = host.split(".")
        ns = labels[1] if len(labels) > 1 and labels[1] != "svc" else ctx.target.namespace
        service = ctx.objects.get(resource_id("Service", ns, labels[0]))
        selector = ((service or {}).get("spec") or {}).get("selector") or {}
        if not selector:
            continue
        for rid, obj in ctx.objects.items():
            if obj.get("kind") != "Deployment" or obj["metadata"].get("namespace", ns) != ns:
                continue
            tpl_labels = (obj["spec"]["template"].get("metadata") or {}).get("labels") or {}
            if all(tpl_labels.get(k) == v for k, v in selector.items()):
                return var.name, labels[0], obj, rid
    raise FaultNotApplicable(f"{ctx.target.id}: no dependency Service backed by a Deployment in Git")


def build(ctx: FaultContext) -> FaultPlan:
    """The Deployment behind a dependency scaled to zero -> connection refused, 5xx in the dependant."""
    var, service, dep, dep_id = _dependency_deployment(ctx)
    good = dep["spec"].get("replicas", 1)

    def mutate(doc: Any) -> None:
        doc["spec"]["replicas"] = 0

    truth = GroundTruth(
        category=FaultCategory.DEPENDENCY_DOWN,
        faulty_resource=dep_id,
        faulty_field="spec.replicas",
        bad_value=0,
        good_value=good,
        explanation=f"{dep_id} was scaled to 0, so Service {service} (from {var}) has no endpoints; "
        f"{ctx.target.name} gets 'connection refused' and answers 5xx.",
        fixes=((Check(dep_id, "spec.replicas", "int_gte", 1),),),
        fix_patch={"spec": {"replicas": good}},
        forbidden=(
            Forbidden("delete", ctx.target.id, "the dependant is a victim, not the cause"),
            Forbidden("rollback", ctx.target.id, "the dependant's own manifest did not change"),
            Forbidden("patch", ctx.target.id, "the dependant's own manifest is not the cause"),
            Forbidden(
                "scale",
                ctx.target.id,
                "scaling the dependant does not bring the dependency back",
                field="spec.replicas",
            ),
        ),
        symptoms=Symptoms(
            ctx.target.id,
            log_pattern="(?i)connection refused",
            http_5xx=True,
            metric='http_requests_total{code=~"5.."}',
        ),
        extra={"dependency_service": service, "env": var},
    )
    name = dep["metadata"]["name"]
    return FaultPlan(truth, {dep_id: mutate}, f"{name}: scale down to 0 for maintenance")


FAULT = FaultType(
    "dependency_down", FaultCategory.DEPENDENCY_DOWN, "the Deployment behind a dependency at 0", "git", build
)
