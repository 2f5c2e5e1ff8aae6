"""A ConfigMap key the pods reference renamed away -> CreateContainerConfigError."""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType, Mutation
from sandbox.faults.edits import bump_checksum, commit_plan, configmap_of
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, Symptoms, container_path, resource_id


def build(ctx: FaultContext) -> FaultPlan:
    """A ConfigMap key the pods reference renamed away -> CreateContainerConfigError."""
    c = ctx.container
    candidates = [v.name for v in ctx.image.env if v.required] + [e.get("name") for e in c.get("env") or []]
    var = next((n for n in candidates if n and configmap_of(ctx, n)), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: no env var comes from a ConfigMap key")
    cm_name, key = configmap_of(ctx, var)  # type: ignore[misc]
    cm_id = resource_id("ConfigMap", ctx.target.namespace, cm_name)
    cm = ctx.objects.get(cm_id)
    if cm is None or key not in (cm.get("data") or {}):
        raise FaultNotApplicable(f"{cm_id} does not hold key {key} in Git")
    renamed = key.lower() if key.lower() != key else f"{key}_v2"
    data = dict(cm["data"])
    value = data.pop(key)
    data[renamed] = value
    field = f"data.{key}"

    def mutate_cm(doc: Any) -> None:
        items = list(doc["data"].items())
        doc["data"].clear()
        for k, v in items:
            doc["data"][renamed if k == key else k] = v

    edits: dict[str, Mutation] = {cm_id: mutate_cm}
    bump = bump_checksum(ctx, cm_name, data)
    if bump:
        edits[ctx.target.id] = bump
    ref_path = container_path(c["name"], f"env[{var}].valueFrom.configMapKeyRef.key")
    return commit_plan(
        ctx,
        FaultCategory.MISSING_CONFIG_KEY,
        cm_id,
        field,
        bad_value=None,
        good_value=value,
        explanation=f"ConfigMap {cm_name} no longer has key {key} (renamed to {renamed}), but {var} of "
        f"{ctx.target.id} reads it, so new containers fail with CreateContainerConfigError.",
        fixes=((Check(cm_id, field, "present"),), (Check(ctx.target.id, ref_path, "eq", renamed),)),
        fix_patch={"data": {key: value}},
        forbidden=(
            Forbidden(
                "patch",
                ctx.target.id,
                f"removing {var} makes the program crash instead",
                field=container_path(c["name"], f"env[{var}]"),
            ),
        ),
        symptoms=Symptoms.never_started(ctx.target.id, "CreateContainerConfigError"),
        edits=edits,
        message=f"{cm_name}: rename {key} to {renamed} for consistency",
        extra={"renamed_to": renamed, "configmap": cm_name},
    )


FAULT = FaultType(
    "missing_config_key", FaultCategory.MISSING_CONFIG_KEY, "referenced ConfigMap key renamed", "git", build
)
