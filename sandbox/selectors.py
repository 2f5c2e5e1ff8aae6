"""Label and field selectors, parsed and matched the way kube-apiserver does it.

Label selectors come in two shapes: the string form used by `?labelSelector=` and `kubectl -l`
(`a=b,c!=d,e in (x,y),f notin (z),g,!h`) and the structured `spec.selector` form
(`matchLabels` + `matchExpressions`). Both compile to the same `Selector`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.store import ApiError

_OPS = ("In", "NotIn", "Exists", "DoesNotExist", "Equals", "NotEquals", "Gt", "Lt")
_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_NAME}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


def _bad(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


@dataclass(frozen=True)
class Requirement:
    """One clause: `key op values`."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label set satisfies this clause (absent keys satisfy `!=` and `notin`)."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("In", "Equals"):
            return present and value in self.values
        if self.op in ("NotIn", "NotEquals"):
            return not present or value not in self.values
        if self.op == "Exists":
            return present
        if self.op == "DoesNotExist":
            return not present
        if self.op in ("Gt", "Lt"):
            if not present:
                return False
            try:
                have, want = int(value or ""), int(next(iter(self.values)))
            except ValueError:
                return False
            return have > want if self.op == "Gt" else have < want
        raise ValueError(f"unknown operator {self.op}")


@dataclass(frozen=True)
class Selector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()
    match_nothing: bool = False

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether every requirement holds for `labels`."""
        if self.match_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements and not self.match_nothing


EVERYTHING = Selector()
NOTHING = Selector(match_nothing=True)


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or not _KEY_RE.match(key) or len(key.split("/")[-1]) > 63:
        raise _bad(f"unable to parse requirement: invalid label key {key!r}")
    return key


def _check_value(value: str) -> str:
    value = value.strip()
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise _bad(f"unable to parse requirement: invalid label value: {value!r}")
    return value


def _split_clauses(s: str) -> list[str]:
    """Split on commas that are not inside a parenthesised value set."""
    clauses: list[str] = []
    current: list[str] = []
    depth = 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _bad(f"unable to parse requirement: unbalanced parenthesis in {s!r}")
        if ch == "," and depth == 0:
            clauses.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise _bad(f"unable to parse requirement: unbalanced parenthesis in {s!r}")
    clauses.append("".join(current))
    return clauses


_SET_RE = re.compile(r"^\s*(?P<key>\S+?)\s+(?P<op>in|notin)\s*\((?P<vals>[^()]*)\)\s*$")
_CMP_RE = re.compile(r"^\s*(?P<key>[^=!<>\s]+)\s*(?P<op>==|!=|=|>|<)\s*(?P<val>[^=!<>]*?)\s*$")


def _parse_clause(clause: str) -> Requirement:
    text = clause.strip()
    if not text:
        raise _bad("unable to parse requirement: found '', expected: identifier")
    m = _SET_RE.match(text)
    if m:
        raw = m.group("vals")
        if not raw.strip():
            raise _bad(f"unable to parse requirement: found ')', expected: identifier in {text!r}")
        vals = frozenset(_check_value(v) for v in raw.split(","))
        op = "In" if m.group("op") == "in" else "NotIn"
        return Requirement(_check_key(m.group("key")), op, vals)
    m = _CMP_RE.match(text)
    if m:
        op = {"=": "Equals", "==": "Equals", "!=": "NotEquals", ">": "Gt", "<": "Lt"}[m.group("op")]
        val = m.group("val")
        if op in ("Gt", "Lt") and not re.fullmatch(r"-?\d+", val):
            raise _bad(
                f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an "
                f"integer: {val!r}"
            )
        return Requirement(_check_key(m.group("key")), op, frozenset({_check_value(val)}))
    if text.startswith("!"):
        return Requirement(_check_key(text[1:]), "DoesNotExist")
    if re.fullmatch(r"\S+", text):
        return Requirement(_check_key(text), "Exists")
    raise _bad(f"unable to parse requirement: {text!r}")


def parse_label_selector(s: str | None) -> Selector:
    """Parse the string form (`app=web,tier!=db,env in (a,b),!legacy`); raises ApiError 400 if invalid."""
    if s is None or not s.strip():
        return EVERYTHING
    return Selector(tuple(_parse_clause(c) for c in _split_clauses(s)))


def selector_from_spec(spec: Mapping[str, Any] | None) -> Selector:
    """Compile a `LabelSelector` object (`matchLabels` / `matchExpressions`).

    As in apps/v1, a missing selector matches nothing while an empty `{}` matches everything.
    """
    if spec is None:
        return NOTHING
    reqs: list[Requirement] = []
    for key, value in sorted((spec.get("matchLabels") or {}).items()):
        reqs.append(Requirement(_check_key(key), "Equals", frozenset({_check_value(str(value))})))
    for expr in spec.get("matchExpressions") or []:
        key = _check_key(str(expr.get("key", "")))
        op = expr.get("operator", "")
        values = [str(v) for v in expr.get("values") or []]
        if op in ("In", "NotIn"):
            if not values:
                raise _bad(
                    f"{op}: values: Required value: must be specified when `operator` is 'In' or 'NotIn'"
                )
            reqs.append(Requirement(key, op, frozenset(_check_value(v) for v in values)))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                raise _bad(
                    f"{op}: values: Forbidden: may not be specified when `operator` is 'Exists' or "
                    "'DoesNotExist'"
                )
            reqs.append(Requirement(key, op))
        else:
            raise _bad(f'operator: Invalid value: "{op}": not a valid selector operator')
    return Selector(tuple(reqs))


def format_selector(spec: Mapping[str, Any] | None) -> str:
    """The string form of a `LabelSelector` object (what `kubectl get rs -o wide` shows)."""
    if not spec:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((spec.get("matchLabels") or {}).items())]
    for expr in spec.get("matchExpressions") or []:
        op, key = expr.get("operator"), expr.get("key")
        vals = ",".join(sorted(expr.get("values") or []))
        parts.append(
            {
                "In": f"{key} in ({vals})",
                "NotIn": f"{key} notin ({vals})",
                "Exists": f"{key}",
                "DoesNotExist": f"!{key}",
            }.get(op, "")
        )
    return ",".join(parts)


# --- field selectors -------------------------------------------------------------------------

_FIELD_PATHS = {
    "metadata.name": ("metadata", "name"),
    "metadata.namespace": ("metadata", "namespace"),
    "spec.nodeName": ("spec", "nodeName"),
    "spec.schedulerName": ("spec", "schedulerName"),
    "spec.restartPolicy": ("spec", "restartPolicy"),
    "status.phase": ("status", "phase"),
    "status.podIP": ("status", "podIP"),
    "reason": ("reason",),
    "type": ("type",),
    "source": ("source", "component"),
    "reportingComponent": ("reportingComponent",),
}
_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def _field_path(name: str) -> tuple[str, ...]:
    if name in _FIELD_PATHS:
        return _FIELD_PATHS[name]
    if name.startswith("involvedObject.") and name.split(".", 1)[1] in _INVOLVED:
        return ("involvedObject", name.split(".", 1)[1])
    raise _bad(f"field label not supported: {name}")


@dataclass(frozen=True)
class FieldRequirement:
    """One field clause: `path (=|!=) value`."""

    field: str
    path: tuple[str, ...]
    equal: bool
    value: str

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Compare the object's field (missing counts as "") with the value."""
        cur: Any = obj
        for part in self.path:
            cur = cur.get(part) if isinstance(cur, Mapping) else None
        have = "" if cur is None else str(cur)
        return (have == self.value) == self.equal


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field clauses; empty matches everything."""

    requirements: tuple[FieldRequirement, ...] = field(default_factory=tuple)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether every clause holds for `obj`."""
        return all(r.matches(obj) for r in self.requirements)


_FIELD_RE = re.compile(r"^\s*(?P<field>[A-Za-z.]+)\s*(?P<op>==|!=|=)\s*(?P<val>.*?)\s*$")


def parse_field_selector(s: str | None) -> FieldSelector:
    """Parse `metadata.name=x,status.phase!=Running,involvedObject.name=web`; ApiError 400 if invalid."""
    if s is None or not s.strip():
        return FieldSelector()
    reqs = []
    for clause in s.split(","):
        m = _FIELD_RE.match(clause)
        if not m:
            raise _bad(f"invalid selector: '{s}'; can't understand '{clause}'")
        name = m.group("field")
        reqs.append(FieldRequirement(name, _field_path(name), m.group("op") != "!=", m.group("val")))
    return FieldSelector(tuple(reqs))
