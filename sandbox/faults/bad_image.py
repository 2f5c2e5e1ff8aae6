"""An image tag the registry does not have -> ErrImagePull / ImagePullBackOff."""

from __future__ import annotations

from typing import Any

from sandbox.controllers.quantity import MI, memory_bytes
from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.edits import (
    base_forbidden,
    container_of,
    smp_container,
)
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, GroundTruth, Symptoms, container_path
from sandbox.images import memory_need_mib


def _missing_tag(ctx: FaultContext) -> str:
    spec = ctx.image
    known = set(ctx.catalogue.tags(spec.repository))
    parts = spec.tag.split(".")
    if parts[-1].isdigit():
        candidate = ".".join([*parts[:-1], str(int(parts[-1]) + 10)])
        if candidate not in known:
            return candidate
    return f"{spec.tag}-rc1" if f"{spec.tag}-rc1" not in known else f"{spec.tag}-nightly"


def build(ctx: FaultContext) -> FaultPlan:
    """Image tag that the registry does not have -> ErrImagePull / ImagePullBackOff."""
    c = ctx.container
    good = c["image"]
    repo_part = good.rsplit(":", 1)[0] if ":" in good.rsplit("/", 1)[-1] else good
    bad = f"{repo_part}:{_missing_tag(ctx)}"
    limit = ((c.get("resources") or {}).get("limits") or {}).get("memory")
    env = ctx.resolved_env()
    runnable = sorted(
        f"{repo_part}:{t}"
        for t in ctx.catalogue.tags(ctx.image.repository)
        if (spec := ctx.catalogue.resolve(f"{repo_part}:{t}")) is not None
        and (not limit or memory_need_mib(spec, env) * MI < memory_bytes(limit))
        and not any(name in env and env[name] == value for name, value, _ in spec.unsupported)
    )
    field = container_path(c["name"], "image")

    def mutate(doc: Any) -> None:
        container_of(doc, c["name"])["image"] = bad

    truth = GroundTruth(
        category=FaultCategory.BAD_IMAGE,
        faulty_resource=ctx.target.id,
        faulty_field=field,
        bad_value=bad,
        good_value=good,
        explanation=f"The image {bad} does not exist in the registry, so the pull fails (ErrImagePull, "
        f"then ImagePullBackOff) and the new pods never start.",
        fixes=((Check(ctx.target.id, field, "in", runnable),),),
        fix_patch=smp_container(c["name"], {"image": good}),
        forbidden=tuple(base_forbidden(ctx)),
        symptoms=Symptoms(
            ctx.target.id,
            waiting_reasons=("ErrImagePull", "ImagePullBackOff"),
            event_reasons=("Failed",),
            metric='kube_pod_container_status_waiting_reason{reason="ImagePullBackOff"}',
        ),
        extra={"runnable_images": runnable},
    )
    return FaultPlan(
        truth, {ctx.target.id: mutate}, f"{ctx.target.name}: bump image to {bad.rsplit(':', 1)[1]}"
    )


FAULT = FaultType("bad_image", FaultCategory.BAD_IMAGE, "image tag that does not exist", "git", build)
