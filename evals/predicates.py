"""Hand-written fix judgements (`FixCheck`, `AnyOf`) evaluated over plain objects, purely.

The objects are what the cluster and Git hold, keyed `Kind namespace/name` (cluster-scoped:
`Kind name`); a field path is dotted with `[x]` selecting the list item whose `name` (or `type`,
for conditions) is `x`, or an index: `spec.template.spec.containers[app].resources.limits.memory`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from kubernetes.utils.quantity import parse_quantity

from evals.expectations import AnyOf, FixCheck, FixCondition

Objects = Mapping[str, Mapping[str, Any]]
MISSING: Any = object()
_SEGMENT = re.compile(r"^([^\[\]]+)((?:\[[^\]]+\])*)$")


def resolve(obj: Any, path: str) -> Any:
    """The value at `path` in `obj`, or MISSING."""
    current = obj
    for segment in path.split("."):
        match = _SEGMENT.match(segment)
        if match is None:
            raise ValueError(f"bad field path segment {segment!r} in {path!r}")
        key, selectors = match.group(1), re.findall(r"\[([^\]]+)\]", match.group(2))
        if not isinstance(current, Mapping) or key not in current:
            return MISSING
        current = current[key]
        for selector in selectors:
            current = _item(current, selector)
            if current is MISSING:
                return MISSING
    return current


def _item(items: Any, selector: str) -> Any:
    if not isinstance(items, list):
        return MISSING
    for item in items:
        if isinstance(item, Mapping) and selector in (item.get("name"), item.get("type")):
            return item
    if selector.isdigit() and int(selector) < len(items):
        return items[int(selector)]
    return MISSING


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (`256Mi`, `0.5`, `100m`) as a number, or None when it is not one."""
    try:
        return Decimal(parse_quantity(value))
    except (ValueError, TypeError, InvalidOperation):
        return None


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def compare(op: str, actual: Any, want: Any) -> bool:
    """Whether `actual` (MISSING when absent) satisfies `op` against `want`."""
    if op == "absent":
        return actual is MISSING or actual is None
    if actual is MISSING:
        return op in ("ne", "not_in", "not_matches")
    if op == "present":
        return actual is not None
    if op == "eq":
        return bool(actual == want)
    if op == "ne":
        return bool(actual != want)
    if op == "in":
        return actual in want
    if op == "not_in":
        return actual not in want
    if op in ("matches", "not_matches"):
        found = re.search(str(want), str(actual)) is not None
        return found if op == "matches" else not found
    if op in ("quantity_gte", "quantity_lte"):
        a, w = quantity(actual), quantity(want)
        return a is not None and w is not None and (a >= w if op == "quantity_gte" else a <= w)
    if op in ("int_gte", "int_lte"):
        ai, wi = _number(actual), _number(want)
        return ai is not None and wi is not None and (ai >= wi if op == "int_gte" else ai <= wi)
    raise ValueError(f"unknown op {op!r}")


def _mapping(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def workload_healthy(obj: Mapping[str, Any] | None) -> bool:
    """All of a workload's desired pods ready and up to date (Deployment, StatefulSet, DaemonSet, Job)."""
    if obj is None:
        return False
    kind = obj.get("kind")
    spec, status, meta = (_mapping(obj, key) for key in ("spec", "status", "metadata"))
    observed, generation = _number(status.get("observedGeneration")), _number(meta.get("generation"))
    if observed is not None and generation is not None and observed < generation:
        return False
    if kind in ("Deployment", "StatefulSet"):
        want = _number(spec.get("replicas"))
        want = 1 if want is None else want
        fields: tuple[str, ...] = ("readyReplicas", "updatedReplicas", "availableReplicas", "replicas")
        if kind == "StatefulSet":
            fields = ("readyReplicas", "updatedReplicas", "replicas")
        return all((_number(status.get(f)) or 0) == want for f in fields)
    if kind == "DaemonSet":
        want = _number(status.get("desiredNumberScheduled")) or 0
        return all((_number(status.get(f)) or 0) == want for f in ("numberReady", "updatedNumberScheduled"))
    if kind == "Job":
        return not (_number(status.get("failed")) or 0) and bool(_number(status.get("succeeded")))
    return False


def check_holds(check: FixCheck, live: Objects, git: Objects) -> bool:
    """One check: on the live object, and on Git's when the object is in Git and `in_git`."""
    if check.op == "healthy":
        return workload_healthy(live.get(check.resource))
    assert check.field is not None  # FixCheck's validator: every other op has a field
    sources = [live]
    if check.in_git and check.resource in git:
        sources.append(git)
    return all(
        compare(check.op, resolve(src[check.resource], check.field) if check.resource in src else MISSING,
                check.value)
        for src in sources
    )  # fmt: skip


def holds(condition: FixCondition, live: Objects, git: Objects) -> bool:
    """A check, or any one of several."""
    if isinstance(condition, AnyOf):
        return any(holds(c, live, git) for c in condition.any)
    return check_holds(condition, live, git)


def fixed(conditions: Sequence[FixCondition], live: Objects, git: Objects) -> bool:
    """Every condition holds."""
    return all(holds(c, live, git) for c in conditions)
