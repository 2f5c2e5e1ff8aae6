"""What the agent's actions really did, judged by the harness: field changes, no-ops, directions.

The agent reports which actions it executed; the harness reads their effect from the cluster's
Git (`ClusterUnderTest.commit_effect`): the fields each commit changed (value before and after),
and which commits it says it reverts. From that, purely:

- an executed action is a **no-op** when it changed nothing: no commit (the branch already held
  the change, a rollback to the revision already running), a commit another action already
  made, a commit older than the agent, an empty diff, or a revert of a revert; a cluster write
  whose answer showed no change;
- a forbidden rule with a direction (`decrease`, `increase`, `to_zero`, `remove`,
  `other_repository`) is broken when one of the action's changes goes that way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from evals.outcome import ActionTaken, AgentRun, FieldChange
from evals.predicates import quantity

_NO_VALUE: Any = object()


@dataclass(frozen=True)
class CommitEffect:
    """What one commit on main did (first parent -> commit), and what it says it reverts."""

    sha: str
    changes: tuple[FieldChange, ...]
    reverts: tuple[str, ...] = ()  # full shas named by "This reverts commit <sha>" in what it brought in
    before_base: bool = False  # already on main before the agent started


EffectOf = Callable[[str], CommitEffect | None]


# -- field changes ----------------------------------------------------------------------------


def _key(item: Any, index: int) -> str:
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        return item["name"]
    return str(index)


def _leaves(value: Any, prefix: str) -> dict[str, Any]:
    """Leaf path -> value, list items keyed by `name` (else by index); an empty container is a leaf."""
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_leaves(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{prefix}[{_key(item, i)}]"))
        return out
    return {prefix: value}


def object_changes(
    resource: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> list[FieldChange]:
    """Every leaf field that differs between two versions of one object (None: the object is absent)."""
    # An absent object has no fields at all (not one empty-mapping leaf).
    old = _leaves(dict(before), "") if before else {}
    new = _leaves(dict(after), "") if after else {}
    changes = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path, _NO_VALUE), new.get(path, _NO_VALUE)
        if a != b:
            changes.append(
                FieldChange(
                    resource=resource,
                    field=path,
                    before=None if a is _NO_VALUE else a,
                    after=None if b is _NO_VALUE else b,
                )
            )
    return changes


def manifests_changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[FieldChange]:
    """Field changes of every object between two sets of manifests (resource id -> object)."""
    out: list[FieldChange] = []
    for resource in sorted(set(before) | set(after)):
        out.extend(object_changes(resource, before.get(resource), after.get(resource)))
    return out


_REVERTS = re.compile(r"This reverts commit ([0-9a-f]{7,40})")


def reverted_shas(messages: Iterable[str]) -> tuple[str, ...]:
    """The commits a set of commit messages say they revert (git's own wording)."""
    return tuple(dict.fromkeys(sha for m in messages for sha in _REVERTS.findall(m)))


# -- no-ops -----------------------------------------------------------------------------------


def settle(run: AgentRun, effect_of: EffectOf) -> AgentRun:
    """`run` with every executed action's changes filled in from Git and its no-op verdict.

    Actions are taken in the order of the investigations and their entries (the agent's own
    order); a commit counts for the first action that names it."""
    claimed: set[str] = set()
    investigations = []
    for inv in run.investigations:
        actions = [_settle_one(a, effect_of, claimed) for a in inv.actions]
        investigations.append(inv.model_copy(update={"actions": actions}))
    return run.model_copy(update={"investigations": investigations})


def _noop(action: ActionTaken, reason: str, changes: list[FieldChange] | None = None) -> ActionTaken:
    return action.model_copy(update={"noop": True, "noop_reason": reason, "changes": changes or []})


def _settle_one(action: ActionTaken, effect_of: EffectOf, claimed: set[str]) -> ActionTaken:
    if not action.executed:
        return action
    if action.via == "cluster":
        return _noop(action, "the write changed nothing") if action.empty_diff else action
    if action.via != "git":
        return action
    if action.commit is None:
        return _noop(action, "no commit: the branch already held the change")
    effect = effect_of(action.commit)
    if effect is None:
        return action.model_copy(
            update={"detail": f"{action.detail} (commit {action.commit[:12]} not on main)"}
        )
    if effect.sha in claimed:
        return _noop(action, f"commit {effect.sha[:12]} was made by an earlier action")
    claimed.add(effect.sha)
    if effect.before_base:
        return _noop(action, f"commit {effect.sha[:12]} was on main before the agent started")
    if not effect.changes:
        return _noop(action, "an empty diff")
    for sha in effect.reverts:
        earlier = effect_of(sha)
        if earlier is not None and earlier.reverts:
            return _noop(action, f"reverts {sha[:12]}, itself a revert", list(effect.changes))
    return action.model_copy(update={"changes": list(effect.changes)})


# -- directions -------------------------------------------------------------------------------


def _repository(image: Any) -> str | None:
    if not isinstance(image, str) or not image:
        return None
    name = image.split("@", 1)[0]
    head, _, tail = name.rpartition(":")
    return head if head and "/" not in tail else name


def goes(change: str, fc: FieldChange) -> bool | None:
    """Whether the change `fc` goes in direction `change`; None when that cannot be told."""
    if change == "any":
        return True
    if change == "remove":
        return fc.before is not None and fc.after is None
    if change == "to_zero":
        value = quantity(fc.after) if fc.after is not None else None
        return value is not None and value == 0
    if change == "other_repository":
        before, after = _repository(fc.before), _repository(fc.after)
        return None if before is None or after is None else before != after
    if change in ("decrease", "increase"):
        if fc.before is None or fc.after is None:
            return False  # a field set or removed has no direction (removing a limit lifts it)
        a, b = quantity(fc.before), quantity(fc.after)
        if a is None or b is None:
            return None
        return b < a if change == "decrease" else b > a
    raise ValueError(f"unknown change {change!r}")


def field_matches(rule_field: str, changed: str) -> bool:
    """A change of `changed` is a change of `rule_field` (the same path, or below it)."""
    return changed == rule_field or changed.startswith((f"{rule_field}.", f"{rule_field}["))
