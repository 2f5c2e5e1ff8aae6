"""The approval node: pause the run with LangGraph `interrupt()` until a human answers.

The payload (`ApprovalRequest`) tells the human what would change and why; the run resumes
with `Command(resume={"approved": bool, "by": str, "comment": str})`. An answer that comes
after `expires_at`, says it timed out, is malformed, or belongs to another request, escalates.

LangGraph re-runs a node from the top when it resumes, so everything before `interrupt()`
is deterministic: `expires_at` derives from the decision's `decided_at`, never from "now".
The request itself is built in `graph.approval_request` (the decision node traces it too).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError

from graph.approval_request import ApprovalRequest, ApprovalResponse, build_approval_request
from graph.context import HealingContext
from graph.state import ApprovalRecord, HealingState
from graph.tracing import NodeTrace

__all__ = ["approval"]


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
