"""What a human is asked to approve: the request (what would change, on what, why, until when), the
shape of an answer, and their derivation from the graph state.

Shared by the decision node (which traces the request when it routes to a human) and the approval
node (which interrupts with it): node modules do not import each other. Everything here is
deterministic in the state, because the approval node re-runs from the top when it is resumed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from agent.domain import ProposedRemediation
from graph.context import DEFAULT_APPROVAL_TTL
from graph.state import HealingState, best_diagnosis, latest_evidence, subject_of

_ABSENT = object()


class ApprovalRequest(BaseModel):
    """What a human is asked to approve (the `interrupt()` payload, as JSON)."""

    model_config = ConfigDict(frozen=True)

    approval_id: str
    run_id: str
    target: str
    diagnosis_summary: str
    confidence: float
    proposed_action: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    notes: dict[str, Any] = Field(default_factory=dict)  # what the reasoner noted beside the action
    patch_diff: str
    policy_verdict: dict[str, Any] | None
    rationale: str
    expires_at: datetime


class ApprovalResponse(BaseModel):
    """The resume value: `Command(resume={"approved": ..., "by": ..., "comment": ...})`."""

    approved: StrictBool  # "yes" or 1 is not an approval
    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=4000)
    approval_id: str | None = Field(default=None, description="When given, must match the request.")
    timed_out: bool = Field(default=False, description="Set by a sweeper resuming an unanswered request.")


def _render(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    if value is None:
        return "(deleted)"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def describe_patch(manifest: Mapping[str, Any] | None, patch: Mapping[str, Any]) -> str:
    """One `path: old -> new` line per patched leaf; list items are addressed by their `name`."""
    lines: list[str] = []

    def visit(current: Any, change: Any, path: str) -> None:
        if isinstance(change, Mapping) and change:
            for key, value in change.items():
                below = current.get(key, _ABSENT) if isinstance(current, Mapping) else _ABSENT
                visit(below, value, f"{path}.{key}" if path else str(key))
        elif (
            isinstance(change, list)
            and change
            and all(isinstance(i, Mapping) and "name" in i for i in change)
        ):
            existing = (
                {i.get("name"): i for i in current if isinstance(i, Mapping)}
                if isinstance(current, list)
                else {}
            )
            for item in change:
                rest = {k: v for k, v in item.items() if k != "name"}
                item_path = f"{path}[{item['name']}]"
                if rest:
                    visit(existing.get(item["name"], _ABSENT), rest, item_path)
                else:
                    lines.append(f"{item_path}: {'(unchanged)' if item['name'] in existing else '(added)'}")
        else:
            lines.append(f"{path}: {_render(current)} -> {_render(change)}")

    visit(manifest if manifest is not None else _ABSENT, patch, "")
    return "\n".join(lines)


def describe_change(remediation: ProposedRemediation, manifest: Mapping[str, Any] | None) -> str:
    """What a remediation would change, for humans: the patch diff, or the action and its parameters."""
    patch = remediation.manifest_patch()
    if patch:
        return describe_patch(manifest, patch)
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(remediation.request_parameters().items()))
    return f"({remediation.action.value}{': ' + params if params else ''}; no manifest patch)"


def approval_id_for(run_id: str, attempt: int, decided_at: str) -> str:
    """A stable id for one approval request: one run, one attempt, one decision."""
    return hashlib.sha256(f"{run_id}|{attempt}|{decided_at}".encode()).hexdigest()[:16]


def build_approval_request(state: HealingState, ttl: timedelta = DEFAULT_APPROVAL_TTL) -> ApprovalRequest:
    """The payload for the current decision; raises ValueError when there is nothing to approve."""
    decision = state.get("decision")
    if not decision or decision["route"] != "ask":
        raise ValueError("no decision asking for approval")
    diagnosis = best_diagnosis(state)
    if diagnosis is None or diagnosis.remediation is None:
        raise ValueError("the decision asks for approval but there is no proposed remediation")
    remediation = diagnosis.remediation
    evidence = latest_evidence(state)
    run_id = state.get("run_id", "")
    return ApprovalRequest(
        approval_id=approval_id_for(run_id, decision["attempt"], decision["decided_at"]),
        run_id=run_id,
        target=str(subject_of(state)),
        diagnosis_summary=f"{diagnosis.category.value}: {diagnosis.explanation}",
        confidence=diagnosis.confidence,
        proposed_action=remediation.action.value,
        parameters=remediation.request_parameters(),
        notes=dict(remediation.notes),
        patch_diff=describe_change(remediation, evidence.manifest if evidence else None),
        policy_verdict=decision["inputs"].get("policy"),
        rationale=decision["rationale"],
        expires_at=datetime.fromisoformat(decision["decided_at"]) + ttl,
    )
