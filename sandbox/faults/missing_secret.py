"""An environment variable moved to a Secret that does not exist -> CreateContainerConfigError.

The commit points one of the main container's variables at `secretKeyRef` of a Secret nobody
created (the way a "move credentials to a Secret" change goes wrong when the Secret is meant to
come from elsewhere): the kubelet cannot build the container's environment and reports
`secret "<name>" not found`. The fault is the reference the commit made, so the truth names the
Deployment's env entry; the fix is the entry as it was (a revert, or the earlier entry restored).
"""

from __future__ import annotations

from typing import Any

from sandbox.faults.context import FaultContext, FaultNotApplicable, FaultPlan, FaultType
from sandbox.faults.edits import container_plan
from sandbox.faults.taxonomy import FaultCategory
from sandbox.faults.truth import Check, Symptoms, container_path


def _secret_name(ctx: FaultContext) -> str:
    return f"{ctx.target.name}-credentials"


def _undo(bad: Any, good: Any) -> Any:
    """A strategic-merge patch turning `bad` back into `good`: a null for each key only `bad` has (a
    variable with both `value` and `valueFrom`, or two key refs, is invalid, and a merge keeps keys
    the patch does not null)."""
    if isinstance(bad, dict) and isinstance(good, dict):
        return {k: _undo(bad[k], good[k]) if k in bad and k in good else good.get(k) for k in {**bad, **good}}
    return good


def build(ctx: FaultContext) -> FaultPlan:
    """Point a variable the program needs at a Secret that does not exist."""
    c = ctx.container
    names = [e.get("name") for e in c.get("env") or [] if isinstance(e, dict)]
    required = [v.name for v in ctx.image.env if v.required and v.name in names]
    var = next(iter(required), None) or next((n for n in names if n), None)
    if var is None:
        raise FaultNotApplicable(f"{ctx.target.id}: the main container sets no environment variable")
    entry = ctx.env_entry(var)
    secret = _secret_name(ctx)
    bad = {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": var}}}
    field = container_path(c["name"], f"env[{var}]")

    def edit(container: Any) -> None:
        for e in container["env"]:
            if e.get("name") == var:
                e.clear()
                e.update(bad)

    return container_plan(
        ctx,
        FaultCategory.MISSING_SECRET,
        field,
        bad_value=bad,
        good_value=entry,
        explanation=f"{var} of {ctx.target.id} now reads key {var} of Secret {secret}, which does not exist, "
        f'so new containers fail with CreateContainerConfigError (secret "{secret}" not found).',
        fixes=((Check(ctx.target.id, field, "eq", entry),),),
        fix={"env": [_undo(bad, entry)]},
        symptoms=Symptoms.never_started(ctx.target.id, "CreateContainerConfigError"),
        edit=edit,
        message=f"{ctx.target.name}: read {var} from Secret {secret}",
        extra={"secret": secret, "env": var},
    )


FAULT = FaultType(
    "missing_secret",
    FaultCategory.MISSING_SECRET,
    "env var moved to a Secret that does not exist",
    "git",
    build,
)
