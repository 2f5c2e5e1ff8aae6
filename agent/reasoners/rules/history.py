"""The workload's history, read for what a field was when the workload last worked.

Two sources, revisions first:

- Revisions (ReplicaSets, oldest first). A rolling update keeps the old pods serving while the new
  ones fail, so an old revision whose pods are ready now is *known* to work; one whose pods exist
  and none is ready is known to fail; so is the current revision of a workload that is failing.
  When no old revision serves any more (the rollout finished before things went wrong), the newest
  older revision not known to fail and not the same template as now is *presumed* good.
- Commits (Git, newest first). A commit reverted by a later one and that revert cancel out; a run
  of commits that moved the same field (a memory limit cut twice) is one change whose good value
  is the one before the first of them. Reverting only the newest would leave the older cut.

Nothing here decides a cause: the rules ask for a field's last known-good value, and say how sure
that value is (`KnownGood.proven`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.observations import CommitObs, RolloutObs

# A field of a pod spec, read from it (None when absent).
Getter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class KnownGood:
    """A field's value when the workload last worked, and where that is known from."""

    value: Any
    source: str  # e.g. "revision 3 (its pods are ready now)"
    cited: tuple[str, ...]
    proven: bool  # True: a revision serving now had it; False: presumed from the history
    revision: RolloutObs | None = None


def good_revision(view: EvidenceView) -> tuple[RolloutObs, bool] | None:
    """The revision the workload last worked on, and whether that is proven (its pods ready now)."""
    current = view.current_revision
    if current is None:
        return None
    older = [r for r in view.rollouts if r.revision != current.revision]
    serving = [r for r in older if r.serving]
    if serving:
        return serving[-1], True
    if (
        any(r.ready_replicas is not None for r in view.rollouts)
        and current.serving
        and not view.failing_now()
    ):
        return None  # the current revision itself works: nothing to go back to
    presumed = [
        r for r in older if r.revision < current.revision and not r.failing and r.template != current.template
    ]
    return (presumed[-1], False) if presumed else None


def known_failing(view: EvidenceView) -> set[int]:
    """Revisions known not to work: with pods none of which is ready, or current on a failing workload."""
    failing = {r.revision for r in view.rollouts if r.failing}
    current = view.current_revision
    if current is not None and view.unhealthy() and not current.serving:
        failing.add(current.revision)
    return failing


def known_good(view: EvidenceView, read: Getter) -> KnownGood | None:
    """The field's value in the revision the workload last worked on, when it differs from now."""
    found = good_revision(view)
    if found is None:
        return None
    revision, proven = found
    value = read(revision.pod_spec)
    if value == read(view.pod_spec):
        return None
    why = "its pods are ready now" if proven else "the last revision before the failing ones"
    return KnownGood(value, f"revision {revision.revision} ({why})", (revision.item_id,), proven, revision)


def same_in_good_revision(view: EvidenceView, read: Getter) -> RolloutObs | None:
    """The revision proven to work (pods ready now), when it has the field exactly as now.

    Then this field is not what broke the workload, whatever else says so.
    """
    found = good_revision(view)
    if found is None or not found[1]:
        return None
    revision, _ = found
    return revision if read(revision.pod_spec) == read(view.pod_spec) else None


# -- commits -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """What one commit did to a field: the values it removed and the values it added."""

    commit: CommitObs
    before: tuple[str, ...]
    after: tuple[str, ...]


def field_changes(view: EvidenceView, line: re.Pattern[str]) -> list[FieldChange]:
    """The live commits that changed a field (a diff line matching `line`, group 1 the value), newest
    first."""
    out = []
    for commit in view.live_commits:
        removed = [
            m.group(1) for raw in commit.changed_lines() if raw[0] == "-" and (m := line.search(raw[1:]))
        ]
        added = [
            m.group(1) for raw in commit.changed_lines() if raw[0] == "+" and (m := line.search(raw[1:]))
        ]
        if removed or added:
            out.append(FieldChange(commit, tuple(removed), tuple(added)))
    return out


def change_run(
    changes: list[FieldChange],
    is_bad: Callable[[FieldChange], bool],
    links: Callable[[FieldChange, FieldChange], bool],
) -> list[FieldChange]:
    """The run of bad changes ending at the newest one, newest first: each older change is bad too and
    leads into the newer one (`links(older, newer)`). Empty when the newest change is not bad."""
    run: list[FieldChange] = []
    for change in changes:
        if not is_bad(change) or (run and not links(change, run[-1])):
            break
        run.append(change)
    return run
