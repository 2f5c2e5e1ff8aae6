"""Edits and truths every fault builder shares: find a container in a manifest, a strategic-merge
patch of one container, the actions no fix may take, the plan of a fault in the main container,
a Helm-style config checksum bump."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sandbox.apps import CHECKSUM_ANNOTATION, config_checksum
from sandbox.faults.context import FaultContext, FaultPlan, Mutation, Obj
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Forbidden, GroundTruth
from sandbox.images import ImageSpec


def container_of(doc: Any, name: str) -> Any:
    """The container `name` of a Deployment manifest (round-trip YAML or plain dict)."""
    for c in doc["spec"]["template"]["spec"]["containers"]:
        if c.get("name") == name:
            return c
    raise KeyError(name)


def smp_container(name: str, body: Obj) -> Obj:
    """A strategic-merge patch touching one container."""
    return {"spec": {"template": {"spec": {"containers": [{"name": name, **body}]}}}}


def base_forbidden(ctx: FaultContext, *, allow_scale: bool = False) -> list[Forbidden]:
    """What no fix may do to the target: delete it, or (unless allowed) scale it to zero."""
    out = [
        Forbidden("delete", ctx.target.id, "deleting the workload takes the service away; it is not a fix")
    ]
    if not allow_scale:
        out.append(
            Forbidden(
                "scale",
                ctx.target.id,
                "scaling to zero hides the fault and stops the service",
                field="spec.replicas",
            )
        )
    return out


def commit_plan(
    ctx: FaultContext,
    category: FaultCategory,
    faulty: str,
    field: str,
    *,
    edits: dict[str, Mutation],
    message: str,
    forbidden: Sequence[Forbidden] = (),
    **truth: Any,
) -> FaultPlan:
    """The plan of a fault one commit makes: `edits` (resource id -> mutation) break `field` of
    `faulty`; `truth` holds the rest of its `GroundTruth` (bad_value, good_value, explanation, fixes,
    fix_patch, symptoms, extra). Every such fault forbids deleting the target or scaling it to zero,
    plus `forbidden`."""
    forbid = (*base_forbidden(ctx), *forbidden)
    facts = GroundTruth(
        category=category, faulty_resource=faulty, faulty_field=field, forbidden=forbid, **truth
    )
    return FaultPlan(facts, edits, message)


def container_plan(
    ctx: FaultContext,
    category: FaultCategory,
    field: str,
    *,
    fix: Obj,
    edit: Callable[[Any], None],
    **truth: Any,
) -> FaultPlan:
    """`commit_plan` of a fault in the target's main container: `edit` changes the container in the
    manifest in place, `fix` is the container's body in the healing patch."""
    name = ctx.container["name"]

    def mutate(doc: Any) -> None:
        edit(container_of(doc, name))

    return commit_plan(
        ctx,
        category,
        ctx.target.id,
        field,
        fix_patch=smp_container(name, fix),
        edits={ctx.target.id: mutate},
        **truth,
    )


def served_paths(image: ImageSpec) -> list[str]:
    """The HTTP paths the image answers 200 on."""
    return [p for p in (image.health_path, *image.http_paths) if p]


def bump_checksum(ctx: FaultContext, cm_name: str, new_data: Obj) -> Mutation | None:
    """Helm-style: a config change also changes the pod template's checksum, which rolls the pods."""
    annotations = (ctx.deployment["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    if CHECKSUM_ANNOTATION not in annotations:
        return None
    checksum = config_checksum(new_data)

    def mutate(doc: Any) -> None:
        doc["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION] = checksum

    return mutate


def configmap_of(ctx: FaultContext, var: str) -> tuple[str, str] | None:
    """(ConfigMap name, key) an env var of the main container reads, if it reads one."""
    entry = ctx.env_entry(var) or {}
    ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
    return (ref["name"], ref["key"]) if ref else None
