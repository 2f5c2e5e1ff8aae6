"""An image tag the registry does not have -> ErrImagePull / ImagePullBackOff."""

from __future__ import annotations

from typing import Any

from sandbox.controllers.quantity import MI, memory_bytes
from sandbox.faults.context import FaultContext, FaultPlan, FaultType
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path
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

    def edit(container: Any) -> None:
        container["image"] = bad

    return container_plan(
        ctx,
        FaultCategory.BAD_IMAGE,
        field,
        bad_value=bad,
        good_value=good,
        explanation=f"The image {bad} does not exist in the registry, so the pull fails (ErrImagePull, "
        f"then ImagePullBackOff) and the new pods never start.",
        fixes=((Check(ctx.target.id, field, "in", runnable),),),
        fix={"image": good},
        symptoms=Symptoms.never_started(ctx.target.id, "ErrImagePull", "ImagePullBackOff"),
        edit=edit,
        message=f"{ctx.target.name}: bump image to {bad.rsplit(':', 1)[1]}",
        extra={"runnable_images": runnable},
    )


FAULT = FaultType("bad_image", FaultCategory.BAD_IMAGE, "image tag that does not exist", "git", build)
