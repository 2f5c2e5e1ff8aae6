"""The await_merge node: the run opened a pull request a human must merge, so it starts waiting.

It records what the run waits on (`merge_wait`: the pull request, since when, until when) and tells
the trace (a `wait` event, status `waiting`); the `merge_gate` node after it pauses the run. The
deadline derives from when the pull request was opened (the remediation entry's time) plus the
context's `merge_timeout`, never from "now", so a replay computes the same one.

Idempotent: a replay that finds this attempt's wait already recorded does nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from langgraph.runtime import Runtime

from graph.action_records import ActionEntry, entries, succeeded
from graph.context import HealingContext
from graph.state import HealingState, MergeWaitRecord, current_attempt
from graph.tracing import NodeTrace

NODE = "await_merge"


def pending_merge_entry(state: HealingState) -> ActionEntry | None:
    """The current attempt's remediation entry whose pull request waits for a merge, if any."""
    done = entries(state, phase="remediation", attempt=current_attempt(state))
    return next((e for e in reversed(done) if succeeded(e) and e.get("pending_merge")), None)


def await_merge(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The await_merge node: `{"merge_wait": MergeWaitRecord}` with status `waiting` (or `invalid`)."""
    ctx = runtime.context
    attempt = current_attempt(state)
    if (state.get("merge_wait") or {}).get("attempt") == attempt:
        return {}  # replayed: this attempt's wait is recorded already
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.start(attempt=attempt)
    entry = pending_merge_entry(state)
    number = entry.get("pr_number") if entry else None
    if entry is None or not isinstance(number, int):
        record = MergeWaitRecord(
            attempt=attempt,
            status="invalid",
            detail="no pull request of this attempt waits for a merge",
            observed_at=ctx.clock().isoformat(),
        )
        tracer.wait("invalid", "nothing to wait on", dict(record))
        tracer.end("invalid: no pull request waits for a merge")
        return {"merge_wait": record}
    since = datetime.fromisoformat(entry["at"])
    deadline = since + ctx.merge_timeout
    url = str(entry.get("pr_url") or "")
    record = MergeWaitRecord(
        attempt=attempt,
        pr_number=number,
        pr_url=url,
        since=since.isoformat(),
        deadline=deadline.isoformat(),
        status="waiting",
    )
    summary = f"waiting for a human to merge or close pull request #{number} (until {deadline.isoformat()})"
    tracer.wait("waiting", summary, dict(record))
    tracer.end(summary)
    return {"merge_wait": record}
