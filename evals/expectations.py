"""What a good agent does in a scenario (`Expect`): the faults' ground truth, fixes, forbidden actions.

A fault's ground truth comes one of two ways:

- from an `inject` step: the cluster's fault catalogue resolves it (names, fix checks, forbidden
  actions); the scenario restates category, resource and field so a drift is caught;
- written by hand (`fixed_when` present), for a fault made by raw commits or raw manifests: the
  scenario says the category, the faulty resource and field, the symptomatic workload and how
  "fixed" is judged (`FixCheck`s over the live objects, and Git where the object lives in Git),
  so fix success does not depend on the catalogue's own truth. Such a fault may be outside the
  catalogue: `category: unknown` then means "the right answer is an `unknown` diagnosis and an
  escalation".

Forbidden actions may carry a direction (`change`): memory must not go down, replicas must not
go to 0, an image must not move to another repository.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from agent.domain import ActionType, RootCause
from evals.scenario_steps import RESOURCE_PATTERN, Strict

# Ground truth may leave the name open where the sandbox decides it (`Node *`: the target's node).
_TRUTH_RESOURCE = r"^[A-Z][A-Za-z]+ (\*|([a-z0-9-]+/)?[a-z0-9][a-z0-9.-]*)$"
_CATEGORY = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
CATEGORY_CONTEXT = "new_categories"  # validation context: accept categories not (yet) in RootCause

CheckOp = Literal[
    "eq", "ne", "present", "absent", "in", "not_in", "quantity_gte", "quantity_lte",
    "int_gte", "int_lte", "matches", "not_matches", "healthy",
]  # fmt: skip
Change = Literal["any", "decrease", "increase", "to_zero", "remove", "other_repository"]
VALUE_OPS = frozenset({"eq", "ne", "in", "not_in", "quantity_gte", "quantity_lte", "int_gte", "int_lte",
                       "matches", "not_matches"})  # fmt: skip


class FixCheck(Strict):
    """One condition of a hand-written fix judgement.

    A field predicate (`field` + `op` [+ `value`]) holds on the live object and, when the object's
    manifest is in Git and `in_git` is true, on Git's too; `absent` also holds when the object is
    gone. `op: healthy` (no field) holds when the workload's pods are all ready and up to date."""

    resource: str = Field(pattern=RESOURCE_PATTERN)
    field: str | None = None
    op: CheckOp
    value: Any = None
    in_git: bool = True

    @model_validator(mode="after")
    def _well_formed(self) -> FixCheck:
        if self.op == "healthy":
            if self.field is not None:
                raise ValueError("op healthy takes no field")
        elif self.field is None:
            raise ValueError(f"op {self.op} needs a field")
        if self.op in VALUE_OPS and self.value is None:
            raise ValueError(f"op {self.op} needs a value")
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op} needs a list value")
        return self


class AnyOf(Strict):
    """At least one of the conditions holds."""

    any: list[FixCheck | AnyOf] = Field(min_length=2)


FixCondition = FixCheck | AnyOf


class ExpectedFault(Strict):
    """The ground truth of one fault: of the next inject step, or written by hand (`fixed_when`)."""

    category: str
    faulty_resource: str = Field(pattern=_TRUTH_RESOURCE)
    faulty_field: str | None = None
    fixed_when: list[FixCondition] | None = Field(
        default=None, min_length=1, description="All hold once fixed; present: a hand-written fault."
    )
    symptom_workload: str | None = Field(
        default=None,
        pattern=RESOURCE_PATTERN,
        description="Hand-written: where it shows (default: the resource).",
    )
    explanation: str | None = Field(default=None, description="Hand-written: the root cause, for judges.")
    forbidden: list[ForbiddenAction] = Field(
        default_factory=list, description="Hand-written: this fault's own."
    )

    @field_validator("category")
    @classmethod
    def _a_category_name(cls, value: str) -> str:
        if not _CATEGORY.match(value):
            raise ValueError(f"a category is a lowercase snake_case name, not {value!r}")
        return value

    @model_validator(mode="after")
    def _declared_or_injected(self, info: ValidationInfo) -> ExpectedFault:
        known = {c.value for c in RootCause}
        # A hand-written fault may name a category the product does not have yet (it is scored as
        # a miss until the product has it); an injected fault's category is the catalogue's.
        lenient = self.declared or (isinstance(info.context, dict) and info.context.get(CATEGORY_CONTEXT))
        if self.category not in known and not lenient:
            raise ValueError(f"unknown category {self.category!r}; known: {', '.join(sorted(known))}")
        if self.declared:
            if self.faulty_resource.endswith(" *"):
                raise ValueError("a hand-written fault names its resource")
            return self
        if self.category == RootCause.UNKNOWN.value:
            raise ValueError(
                "'unknown' is the reasoners' answer when unsure; only a hand-written (fixed_when) "
                "uncatalogued fault may expect it"
            )
        extra = [k for k in ("symptom_workload", "explanation") if getattr(self, k) is not None]
        if extra or self.forbidden:
            raise ValueError(f"{extra or ['forbidden']}: only for hand-written faults (with fixed_when)")
        return self

    @property
    def declared(self) -> bool:
        """Written by hand (a raw commit or manifest made it), not the truth of an inject step."""
        return self.fixed_when is not None

    @property
    def symptoms_at(self) -> str:
        """The workload that shows the fault."""
        return self.symptom_workload or self.faulty_resource


class ForbiddenAction(Strict):
    """An action that must not happen (on top of what the sandbox's ground truth forbids).

    `action: any` matches every mutating action; `change` narrows it to a direction on `field`:
    `decrease`/`increase` (quantities and numbers), `to_zero`, `remove`, `other_repository`
    (an image moved to another repository)."""

    action: Literal["any", "delete", "scale", "patch", "restart", "rollback", "revert_commit"]
    resource: str = Field(pattern=RESOURCE_PATTERN)
    field: str | None = None
    change: Change = "any"
    reason: str = Field(min_length=1)

    @model_validator(mode="after")
    def _direction_needs_field(self) -> ForbiddenAction:
        if self.change != "any" and self.field is None:
            raise ValueError(f"change: {self.change} needs the field it is about")
        return self


class Expect(Strict):
    """What a good agent does."""

    detect: bool
    faults: list[ExpectedFault] = Field(default_factory=list)
    acceptable_fixes: list[ActionType] = Field(default_factory=list)
    forbidden: list[ForbiddenAction] = Field(default_factory=list)
    affected: list[str] = Field(
        default_factory=list,
        description="Workloads the fault also hurts (dependants): an incident there is neither TP nor FP.",
    )
    escalate: bool | None = Field(default=None, description="None: either is acceptable.")
    explanation: str | None = Field(default=None, description="Reference root-cause text for the judge.")

    @model_validator(mode="after")
    def _consistent(self) -> Expect:
        if self.detect and not self.faults:
            raise ValueError("detect: true needs the ground truth of at least one fault in 'faults'")
        if not self.detect and self.faults:
            raise ValueError("detect: false (a control) cannot list faults")
        if self.detect and not self.acceptable_fixes and self.escalate is not True:
            raise ValueError("a fault with no acceptable fix must expect escalation (escalate: true)")
        if any(f.category == RootCause.UNKNOWN.value for f in self.faults) and self.escalate is not True:
            raise ValueError(
                "an uncatalogued fault (category unknown) must expect escalation (escalate: true)"
            )
        return self

    @property
    def injected(self) -> list[ExpectedFault]:
        """The ground truth of the inject steps, in order."""
        return [f for f in self.faults if not f.declared]


AnyOf.model_rebuild()
ExpectedFault.model_rebuild()
