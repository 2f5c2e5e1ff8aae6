"""The merge_gate node: pause the run with `interrupt()` until its pull request's fate is known.

The payload is a `graph.merge_watch.MergeWaitRequest`; the host follows the pull request and the
workload (`graph.merge_watch.observe`) and resumes the run with a `MergeWaitAnswer`:

- merged: an audit entry (phase remediation) records that the change went live, with how to undo
  it (revert the merge commit), so verification judges it and a rollback can take it back;
- closed: a human rejected the change (the report node ends the run `rejected`);
- recovered: the workload healed without the change (the report node ends it `recovered`); the
  pull request stays open for humans, with a comment saying so;
- timeout: nobody merged or closed it in time (escalated, the pull request commented on).

A malformed answer records status `invalid` (escalated). LangGraph re-runs a node from the top
when it resumes, so nothing before `interrupt()` writes or emits anything.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError

from graph.action_records import UndoHint, make_entry
from graph.context import HealingContext
from graph.merge_watch import MergeWaitAnswer, MergeWaitRequest
from graph.state import HealingState, MergeWaitRecord, incident_of, subject_of
from graph.tracing import NodeTrace

NODE = "merge_gate"


def merge_request(state: HealingState) -> MergeWaitRequest | None:
    """The request for the recorded wait, or None when the run is not waiting on a pull request."""
    wait = state.get("merge_wait") or {}
    if wait.get("status") != "waiting":
        return None
    subject, victim = subject_of(state), incident_of(state).target
    return MergeWaitRequest(
        run_id=state["run_id"],
        attempt=int(wait["attempt"]),
        pr_number=int(wait["pr_number"]),
        pr_url=str(wait.get("pr_url") or ""),
        targets=[subject] if subject == victim else [subject, victim],
        since=wait["since"],  # ISO text, validated into a datetime
        deadline=wait["deadline"],
    )


def merge_gate(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The merge_gate node: interrupts, then writes the wait's end (and, when merged, an audit entry)."""
    ctx = runtime.context
    request = merge_request(state)
    if request is None:
        return {}  # nothing to wait on (invalid), or the answer is recorded already
    answer = interrupt(request.model_dump(mode="json"))
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=request.attempt, pr_number=request.pr_number)
    now = ctx.clock()
    record = MergeWaitRecord(**(state.get("merge_wait") or {}))
    record["observed_at"] = now.isoformat()
    try:
        ended = MergeWaitAnswer.model_validate(answer)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'answer'}: {e['msg']}" for e in exc.errors())
        record["status"], record["detail"] = "invalid", f"malformed answer: {problems}"
        tracer.wait("invalid", f"pull request #{request.pr_number}: malformed answer", dict(record))
        tracer.end("invalid answer; escalating")
        return {"merge_wait": record}
    record["status"], record["detail"], record["by"] = ended.status, ended.detail, ended.by
    if ended.merge_sha:
        record["merge_sha"] = ended.merge_sha
    summary = ended.detail or f"pull request #{request.pr_number}: {ended.status}"
    tracer.wait(ended.status, summary, dict(record))
    update: dict[str, Any] = {"merge_wait": record}
    if ended.status == "merged":
        update["actions"] = [_merged_entry(ctx, state, request, ended, tracer)]
    elif ended.status in ("recovered", "timeout") and ctx.repo is not None:
        why = (
            "the workload recovered without this change"
            if ended.status == "recovered"
            else "nobody merged or closed it in time; the run was escalated to a human"
        )
        comment = ctx.repo.comment_on_issue(
            request.pr_number, f"Paramedic no longer waits on this pull request: {why}.\n\n{ended.detail}"
        )
        if not comment.ok:
            tracer.note(f"could not comment on pull request #{request.pr_number}: {comment.error}")
    tracer.end(f"{ended.status}: {ended.detail}")
    return update


def _merged_entry(
    ctx: HealingContext,
    state: HealingState,
    request: MergeWaitRequest,
    ended: MergeWaitAnswer,
    tracer: NodeTrace,
) -> Any:
    who = f"{ended.by} (merged pull request #{request.pr_number})" if ended.by else "a human"
    extra: dict[str, Any] = {"applied": True, "pending_merge": False, "pr_number": request.pr_number}
    if request.pr_url:
        extra["pr_url"] = request.pr_url
    if ended.merge_sha:
        extra["undo"] = UndoHint(kind="revert", commit=ended.merge_sha)
    entry = make_entry(
        run_id=state["run_id"],
        attempt=request.attempt,
        phase="remediation",
        action="merge",
        key="merge",
        target=str(subject_of(state)),
        who=who,
        what=f"pull request #{request.pr_number} merged; the change goes live with the next GitOps sync",
        why=f"a human merged the pull request this run opened ({ended.detail})",
        status="ok",
        detail=ended.detail or "merged",
        at=ctx.clock(),
        **extra,
    )
    tracer.action(entry)
    return entry
