"""Machine-readable ground truth of an injected fault, and the checks that decide whether it is fixed.

A fix is decided by data, not code: `fixes` lists alternatives, each a conjunction of `Check`s
over objects (as Git or the cluster holds them), addressed as `Kind namespace/name` plus a
field path such as `spec.template.spec.containers[app].resources.limits.memory` (a `[x]`
selects the list item whose `name` - or `type`, for conditions - is `x`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.controllers.quantity import parse_quantity
from sandbox.faults.taxonomy import FaultCategory
from sandbox.images import ImageCatalogue

Obj = dict[str, Any]
MISSING = object()
_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[[^\]]+\])*)$")

OPS = frozenset(
    {
        "eq",
        "ne",
        "present",
        "absent",
        "in",
        "not_in",
        "quantity_gte",
        "quantity_lte",
        "int_gte",
        "int_lte",
        "none_match",
        "valid_env_value",
    }
)


def resource_id(kind: str, namespace: str, name: str) -> str:
    """`Deployment shop/web-api` (cluster-scoped: `Node sandbox-worker-1`)."""
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def object_id(obj: Obj) -> str:
    """The resource id of an object."""
    meta = obj.get("metadata") or {}
    return resource_id(str(obj.get("kind", "")), str(meta.get("namespace") or ""), str(meta.get("name", "")))


def container_path(container: str, rest: str = "") -> str:
    """`spec.template.spec.containers[<container>]` plus an optional `.rest`."""
    base = f"spec.template.spec.containers[{container}]"
    return f"{base}.{rest}" if rest else base


def _scalar(value: object) -> str | int | float:
    """A value a numeric check can read; anything else is a TypeError (the check then fails)."""
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"not a number or quantity: {value!r}")


def resolve(obj: Any, path: str) -> Any:
    """The value at `path` in `obj`, or MISSING."""
    current = obj
    for segment in path.split("."):
        m = _SEGMENT.match(segment)
        if not m:
            raise ValueError(f"bad field path segment {segment!r} in {path!r}")
        key, selectors = m.group(1), re.findall(r"\[([^\]]+)\]", m.group(2))
        if not isinstance(current, Mapping) or key not in current:
            return MISSING
        current = current[key]
        for sel in selectors:
            if not isinstance(current, list):
                return MISSING
            found = MISSING
            for item in current:
                if isinstance(item, Mapping) and sel in (item.get("name"), item.get("type")):
                    found = item
                    break
            if found is MISSING and sel.isdigit() and int(sel) < len(current):
                found = current[int(sel)]
            if found is MISSING:
                return MISSING
            current = found
    return current


@dataclass(frozen=True)
class Check:
    """One condition over one object's field."""

    resource: str  # `Kind namespace/name`
    path: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown check op {self.op!r}; expected one of {sorted(OPS)}")

    def holds(self, objects: Mapping[str, Obj], catalogue: ImageCatalogue | None = None) -> bool:
        """Whether the check holds for `objects` (resource id -> object); a missing object fails it
        unless the op is `absent`."""
        obj = objects.get(self.resource)
        actual = MISSING if obj is None else resolve(obj, self.path)
        op, want = self.op, self.value
        if op == "absent":
            return actual is MISSING or actual is None
        if actual is MISSING:
            return False
        try:
            if op == "present":
                return actual is not None
            if op == "eq":
                return actual == want
            if op == "ne":
                return actual != want
            if op == "in":
                return actual in want
            if op == "not_in":
                return actual not in want
            if op == "quantity_gte":
                return parse_quantity(_scalar(actual)) >= parse_quantity(_scalar(want))
            if op == "quantity_lte":
                return parse_quantity(_scalar(actual)) <= parse_quantity(_scalar(want))
            if op == "int_gte":
                return int(_scalar(actual)) >= int(_scalar(want))
            if op == "int_lte":
                return int(_scalar(actual)) <= int(_scalar(want))
            if op == "none_match":
                items = actual if isinstance(actual, list) else [actual]
                return not any(re.search(want, str(item)) for item in items)
            if op == "valid_env_value":
                return _env_value_valid(str(actual), want, catalogue or ImageCatalogue())
        except (TypeError, ValueError):
            return False
        raise AssertionError(op)  # pragma: no cover - __post_init__ rejects unknown ops


def _env_value_valid(value: str, want: Mapping[str, str], catalogue: ImageCatalogue) -> bool:
    spec = catalogue.resolve(want["image"])
    if spec is None:
        return False
    var = next((v for v in spec.env if v.name == want["env"]), None)
    if var is None or (var.validate is not None and var.validate(value) is not None):
        return False
    return not any(name == var.name and value == bad for name, bad, _ in spec.unsupported)


@dataclass(frozen=True)
class Forbidden:
    """Something a remediation must not do for this fault, and why."""

    action: str  # delete, scale, patch, restart, rollback, revert_commit
    resource: str
    reason: str
    field: str | None = None


@dataclass(frozen=True)
class Symptoms:
    """What the cluster shows once the fault has taken effect (on `workload`)."""

    workload: str  # the resource id that shows them (for dependency_down: the dependant)
    waiting_reasons: tuple[str, ...] = ()  # any of these on a container of a new pod
    last_terminated_reason: str | None = None
    exit_code: int | None = None
    pod_phase: str | None = None
    pod_reason: str | None = None  # e.g. Evicted
    not_ready: bool = False
    restarts: bool = False
    event_reasons: tuple[str, ...] = ()  # all of these appear among the workload's pods' events
    log_pattern: str | None = None  # a regular expression some container log line matches
    metric: str | None = None  # a series that shows it, in PromQL selector form
    http_5xx: bool = False

    @classmethod
    def crash_loop(
        cls,
        workload: str,
        reason: str,
        exit_code: int,
        log_pattern: str | None = None,
        metric: str = "kube_pod_container_status_restarts_total",
    ) -> Symptoms:
        """A container that exits (`reason`, `exit_code`) right after start, restarted with back-off."""
        return cls(
            workload,
            waiting_reasons=("CrashLoopBackOff",),
            last_terminated_reason=reason,
            exit_code=exit_code,
            restarts=True,
            event_reasons=("BackOff",),
            log_pattern=log_pattern,
            metric=metric,
        )

    @classmethod
    def never_started(cls, workload: str, *waiting_reasons: str) -> Symptoms:
        """A container the kubelet cannot start (`Failed` events), waiting with the last of the reasons."""
        return cls(
            workload,
            waiting_reasons=waiting_reasons,
            event_reasons=("Failed",),
            metric=f'kube_pod_container_status_waiting_reason{{reason="{waiting_reasons[-1]}"}}',
        )


@dataclass(frozen=True)
class GroundTruth:
    """Everything an evaluator needs to score a diagnosis and a fix of one injected fault."""

    category: FaultCategory
    faulty_resource: str
    faulty_field: str | None
    bad_value: Any
    good_value: Any
    explanation: str
    fixes: tuple[tuple[Check, ...], ...]  # any one conjunction holding means fixed
    fix_patch: Obj | None  # a strategic-merge patch of `faulty_resource` that heals it
    forbidden: tuple[Forbidden, ...]
    symptoms: Symptoms
    fix_in_git: bool = True  # False when no manifest change heals it (node pressure)
    extra: Obj = field(default_factory=dict)

    def is_fixed(self, objects: Mapping[str, Obj], catalogue: ImageCatalogue | None = None) -> bool:
        """True when some alternative of `fixes` holds for `objects` (resource id -> object)."""
        return any(all(c.holds(objects, catalogue) for c in alternative) for alternative in self.fixes)

    def to_dict(self) -> Obj:
        """Plain JSON-compatible data."""
        data = asdict(self)
        data["category"] = self.category.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GroundTruth:
        """The inverse of `to_dict`."""
        symptoms: dict[str, Any] = {
            k: tuple(v) if isinstance(v, list) else v for k, v in data["symptoms"].items()
        }
        return cls(
            category=FaultCategory(data["category"]),
            faulty_resource=data["faulty_resource"],
            faulty_field=data.get("faulty_field"),
            bad_value=data.get("bad_value"),
            good_value=data.get("good_value"),
            explanation=data.get("explanation", ""),
            fixes=tuple(tuple(Check(**c) for c in alt) for alt in data.get("fixes", ())),
            fix_patch=data.get("fix_patch"),
            forbidden=tuple(Forbidden(**f) for f in data.get("forbidden", ())),
            symptoms=Symptoms(**symptoms),
            fix_in_git=data.get("fix_in_git", True),
            extra=dict(data.get("extra") or {}),
        )
