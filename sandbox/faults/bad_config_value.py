"""A config value the program rejects at run time -> Running, but most requests fail with 5xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType, Mutation, Obj
from sandbox.faults.edits import bump_checksum, commit_plan, configmap_of, container_of, smp_container
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Forbidden, Symptoms, container_path, resource_id


def _rejected_value(validate: Callable[[str], str | None], current: str | None) -> str | None:
    # A word for settings that take words, a number for those that take numbers: what a person mistypes.
    takes_words = "unsupported value" in (validate("knock-knock") or "")
    candidates = ("knock-knock", "turbo") if takes_words else ("0", "-1", "1000000", "not-a-number")
    for candidate in candidates:
        if candidate != current and validate(candidate) is not None:
            return candidate
    return None


def build(ctx: FaultContext) -> FaultPlan:
    """A config value the program rejects at run time -> Running, but most requests fail with 5xx."""
    c = ctx.container
    spec = ctx.image
    if spec.request_rate <= 0:
        raise FaultNotApplicable(f"{ctx.target.id}: {spec.reference} serves no requests to fail")
    for var in spec.env:
        if var.on_invalid != "degrade" or var.validate is None or var.dependency:
            continue
        current = ctx.env_value(var.name)
        if current is None:
            continue
        bad = _rejected_value(var.validate, current)
        if bad is not None:
            break
    else:
        raise FaultNotApplicable(f"{ctx.target.id}: no configurable value of {spec.reference} to break")
    source = configmap_of(ctx, var.name)
    want = {"image": c["image"], "env": var.name}
    edits: dict[str, Mutation] = {}
    if source:
        cm_name, key = source
        faulty = resource_id("ConfigMap", ctx.target.namespace, cm_name)
        field = f"data.{key}"

        def mutate_cm(doc: Any) -> None:
            doc["data"][key] = bad

        edits[faulty] = mutate_cm
        data = dict(ctx.objects[faulty]["data"])
        data[key] = bad
        bump = bump_checksum(ctx, cm_name, data)
        if bump:
            edits[ctx.target.id] = bump
        patch: Obj = {"data": {key: current}}
        message = f"{cm_name}: set {key} to {bad}"
    else:
        faulty = ctx.target.id
        field = container_path(c["name"], f"env[{var.name}].value")

        def mutate_env(doc: Any) -> None:
            for e in container_of(doc, c["name"])["env"]:
                if e.get("name") == var.name:
                    e["value"] = bad

        edits[faulty] = mutate_env
        patch = smp_container(c["name"], {"env": [{"name": var.name, "value": current}]})
        message = f"{ctx.target.name}: set {var.name} to {bad}"
    error = var.validate(bad)
    return commit_plan(
        ctx,
        FaultCategory.BAD_CONFIG_VALUE,
        faulty,
        field,
        bad_value=bad,
        good_value=current,
        explanation=f"{var.name}={bad} is not a valid setting ({error}); the program starts but fails most "
        f"requests with 500 since the change.",
        fixes=((Check(faulty, field, "valid_env_value", want),),),
        fix_patch=patch,
        forbidden=(Forbidden("restart", ctx.target.id, "restarting reloads the same bad value"),),
        symptoms=Symptoms(
            ctx.target.id,
            http_5xx=True,
            log_pattern="configuration problem",
            metric='http_requests_total{code="500"}',
        ),
        edits=edits,
        message=message,
        extra={"env": var.name, "error": error},
    )


FAULT = FaultType(
    "bad_config_value", FaultCategory.BAD_CONFIG_VALUE, "invalid config value -> 5xx", "git", build
)
