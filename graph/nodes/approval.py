"""The approval node: pause the run with LangGraph `interrupt()` until a human answers.

The payload (`ApprovalRequest`) tells the human what would change and why; the run resumes
with `Command(resume={"approved": bool, "by": str, "comment": str})`. An answer that comes
after `expires_at`, says it timed out, is malformed, or belongs to another request, escalates.

LangGraph re-runs a node from the top when it resumes, so everything before `interrupt()`
is deterministic: `expires_at` derives from the decision's `decided_at`, never from "now".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from agent.domain import ProposedRemediation
from graph.context import DEFAULT_APPROVAL_TTL, HealingContext
from graph.state import ApprovalRecord, HealingState, best_diagnosis, latest_evidence, subject_of
from graph.tracing import NodeTrace

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


def _record(
    status: Literal["approved", "rejected", "expired", "invalid"],
    request: ApprovalRequest | None,
    answered_at: datetime,
    *,
    by: str,
    comment: str,
) -> ApprovalRecord:
    record = ApprovalRecord(status=status, answered_at=answered_at.isoformat(), by=by, comment=comment)
    if request is not None:
        record["approval_id"] = request.approval_id
        record["expires_at"] = request.expires_at.isoformat()
        record["request"] = request.model_dump(mode="json")
    return record


def approval(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The approval node: interrupts, then writes `{"approval": ApprovalRecord}`."""
    ctx = runtime.context
    tracer = NodeTrace(state.get("run_id", ""), "approval", ctx.emit)
    try:
        request = build_approval_request(state, ctx.approval_ttl)
    except ValueError as exc:
        return _answered(tracer, _record("invalid", None, ctx.clock(), by="paramedic", comment=str(exc)))
    previous = state.get("approval") or {}
    if previous.get("approval_id") == request.approval_id and previous.get("status"):
        return {}  # already answered: a repeated resume must not ask (or act) twice
    # The request's trace event comes from the decision node: this node runs again when resumed.
    answer = interrupt(request.model_dump(mode="json"), response_schema=ApprovalResponse.model_json_schema())
    now = ctx.clock()
    try:
        response = ApprovalResponse.model_validate(answer)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
        record = _record("invalid", request, now, by="", comment=f"malformed answer: {problems}")
        return _answered(tracer, record)
    if response.approval_id is not None and response.approval_id != request.approval_id:
        comment = f"answer is for approval {response.approval_id}, not {request.approval_id}"
        return _answered(tracer, _record("invalid", request, now, by=response.by, comment=comment))
    if response.timed_out or now > request.expires_at:
        comment = response.comment or f"no answer before {request.expires_at.isoformat()}"
        return _answered(tracer, _record("expired", request, now, by=response.by, comment=comment))
    status: Literal["approved", "rejected"] = "approved" if response.approved else "rejected"
    return _answered(tracer, _record(status, request, now, by=response.by, comment=response.comment))


def _answered(tracer: NodeTrace, record: ApprovalRecord) -> dict[str, Any]:
    """The node's update, with its trace event: who answered what (or why the answer is void)."""
    tracer.approval(
        record["status"],
        approval_id=record.get("approval_id"),
        by=record.get("by") or None,
        comment=record.get("comment") or None,
        answered_at=record["answered_at"],
    )
    return {"approval": record}
