"""The audit records the acting nodes write into the state's `actions` list, and how to read them back.

`ActionEntry` is `graph.state.ActionRecord` plus what the loop needs to know later: which phase
wrote it, whether the change is live (or waits for a human to merge), the pull request, the
patch, and how to undo it. The extra keys are plain JSON, so they survive any checkpointer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, cast

from typing_extensions import TypedDict, Unpack

from graph.state import ActionRecord, ActionResult, DryRunResult, HealingState

Phase = Literal["remediation", "rollback", "escalation", "report"]


class UndoHint(TypedDict, total=False):
    """How to take a change back: revert a commit on the base branch, or roll out an old revision."""

    kind: Literal["revert", "rollout_undo"]
    commit: str  # revert: the commit that made the change live
    revision: int  # rollout_undo: the revision the change replaced


class ChangeFacts(TypedDict, total=False):
    """What became of a change: live or waiting for a merge, its pull request, how to undo it."""

    applied: bool  # the change is live, or will be once the GitOps sync applies the base branch
    pending_merge: bool  # a pull request waits for a human to merge it
    pr_url: str
    pr_number: int
    undo: UndoHint


class EntryFacts(ChangeFacts, total=False):
    """The optional facts of an entry that the verification/rollback loop reads (`make_entry`'s extras)."""

    patch: dict[str, Any]
    undoes: str  # the id of the entry a rollback entry takes back


class ActionEntry(ActionRecord, EntryFacts, total=False):
    """An `ActionRecord` with the phase that wrote it and the facts the verification/rollback loop reads."""

    phase: Phase


class EntryBase(TypedDict):
    """The `make_entry` arguments every entry of one node's step shares (spread in with `**`)."""

    run_id: str
    attempt: int
    phase: Phase
    target: str
    who: str
    at: datetime


def entry_id(run_id: str, attempt: int, phase: str, key: str = "") -> str:
    """A stable id: the same step of the same run always gets the same id (resumes find their own)."""
    return hashlib.sha256(f"{run_id}|{attempt}|{phase}|{key}".encode()).hexdigest()[:16]


def make_entry(
    *,
    run_id: str,
    attempt: int,
    phase: Phase,
    action: str,
    target: str,
    who: str,
    what: str,
    why: str,
    status: str,
    detail: str,
    at: datetime,
    diff: str = "",
    dry_run: DryRunResult | None = None,
    key: str = "",
    **extra: Unpack[EntryFacts],
) -> ActionEntry:
    """Build one audit entry; `extra` takes the optional `ActionEntry` keys."""
    # Checked here too: a caller spreading a plain dict (`**fields`) escapes the type checker.
    unknown = set(extra) - set(EntryFacts.__annotations__)
    if unknown:
        raise TypeError(f"unknown action entry keys: {sorted(unknown)}")
    return ActionEntry(
        id=entry_id(run_id, attempt, phase, key or action),
        attempt=attempt,
        action=action,
        target=target,
        who=who,
        what=what,
        why=why,
        diff=diff,
        dry_run=dry_run,
        result=ActionResult(status=status, detail=detail),
        at=at.isoformat(),
        phase=phase,
        **extra,
    )


def entries(
    state: HealingState, *, phase: Phase | None = None, attempt: int | None = None
) -> list[ActionEntry]:
    """The state's action entries, oldest first, optionally of one phase and/or attempt."""
    out: list[ActionEntry] = []
    for record in state.get("actions") or []:
        entry: Mapping[str, Any] = record
        if phase is not None and entry.get("phase") != phase:
            continue
        if attempt is not None and entry.get("attempt") != attempt:
            continue
        # The state's list is typed by graph.state, which cannot name ActionEntry (it imports the state);
        # every record in it was built by make_entry.
        out.append(cast(ActionEntry, record))
    return out


def succeeded(entry: Mapping[str, Any]) -> bool:
    """True when the entry's write (or notification) went through."""
    status: object = entry.get("result", {}).get("status")
    return status == "ok"
