"""A run waiting on its pull request: the await_merge and merge_gate nodes in a checkpointed graph, one
look of `graph.merge_watch.observe` at a time on an injected clock, and how each end of the wait ends
the run (verification, rejected, recovered without action, escalated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph

from agent.trace import TraceEvent, TraceEventType
from graph.action_records import make_entry
from graph.context import HealingContext, VerifyConfig
from graph.merge_watch import MergeWaitRequest, Watching, observe
from graph.nodes.await_merge import await_merge
from graph.nodes.escalate import escalation_reason
from graph.nodes.merge_gate import merge_gate
from graph.nodes.report import report_outcome
from graph.nodes.rollback import to_undo
from graph.runner import HealingApp, pending_merge, resume_run, start_run
from graph.state import HealingState, RunOutcome, initial_state
from tests.clocks import ManualClock
from tests.graph.contexts import healing_context
from tests.graph.test_remediation import INCIDENT, TARGET, FakeCluster
from tests.graph.test_verification import status
from tools.gitops.records import Comment, PullRequest
from tools.result import ToolResult, ToolStatus

OPENED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
TIMEOUT = timedelta(hours=2)


@dataclass
class FakeRepo:
    """The two reads and one write a merge wait needs, over one scripted pull request."""

    pull: PullRequest | None
    comments: list[tuple[int, str]] = field(default_factory=list)

    def get_pull_request(self, number: int) -> ToolResult[PullRequest]:
        if self.pull is None or self.pull.number != number:
            return ToolResult("gitops.get_pull_request", ToolStatus.ERROR, error="GitHub is down")
        return ToolResult("gitops.get_pull_request", ToolStatus.OK, data=self.pull)

    def comment_on_issue(self, number: int, body: str) -> ToolResult[Comment]:
        self.comments.append((number, body))
        return ToolResult("gitops.comment_on_issue", ToolStatus.OK, data=Comment(1, number, body))


def pull(state: str = "open", **extra: Any) -> PullRequest:
    return PullRequest(
        number=7, url="file:///repo/.git/paramedic/pulls/7.json", title="raise memory", head="fix",
        base="main", state=state, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def pending_state(run_id: str = "run-m") -> HealingState:
    state = initial_state(run_id, INCIDENT)
    state["actions"] = [
        make_entry(
            run_id=run_id, attempt=1, phase="remediation", action="gitops_pr", target=str(TARGET),
            who="paramedic", what="pull request", why="oom", status="ok",
            detail="pull request #7 opened; waits for a merge", at=OPENED, applied=False,
            pending_merge=True, pr_url="file:///repo/.git/paramedic/pulls/7.json", pr_number=7,
        )
    ]  # fmt: skip
    return state


def context(
    repo: FakeRepo | None, cluster: FakeCluster | None, clock: ManualClock, **extra: Any
) -> HealingContext:
    return healing_context(
        repo=repo, cluster=cluster, clock=clock, merge_timeout=TIMEOUT,
        verify=VerifyConfig(stable_seconds=60), **extra,
    )  # fmt: skip


def wait_graph(ctx: HealingContext) -> HealingApp:
    """START -> await_merge -> merge_gate -> END, checkpointed in memory."""
    builder = StateGraph(HealingState, context_schema=HealingContext)
    builder.add_node("await_merge", await_merge)
    builder.add_node("merge_gate", merge_gate)
    builder.add_edge(START, "await_merge")
    builder.add_edge("await_merge", "merge_gate")
    builder.add_edge("merge_gate", END)
    return HealingApp(builder.compile(checkpointer=InMemorySaver()), ctx)


def started(ctx: HealingContext, events: list[TraceEvent]) -> HealingApp:
    app = wait_graph(ctx)
    result = app.graph.invoke(pending_state(), {"configurable": {"thread_id": "run-m"}}, context=ctx)
    assert "__interrupt__" in result
    return app


def test_the_run_waits_at_the_gate_with_a_deadline_from_when_the_pull_request_opened() -> None:
    events: list[TraceEvent] = []
    clock = ManualClock(OPENED + timedelta(minutes=5))
    ctx = context(FakeRepo(pull()), None, clock, emit=events.append)
    app = wait_graph(ctx)
    result = start_run(app, "run-m", INCIDENT)  # from an empty state: await_merge finds no pull request
    assert result.stop == "completed" and result.state["merge_wait"]["status"] == "invalid"

    app = wait_graph(ctx)
    config = {"configurable": {"thread_id": "run-w"}}
    app.graph.invoke(pending_state("run-w"), config, context=ctx)
    request = MergeWaitRequest.model_validate(pending_merge(app, "run-w"))
    assert (request.pr_number, request.attempt, request.targets) == (7, 1, [TARGET])
    assert request.since == OPENED and request.deadline == OPENED + TIMEOUT, "not from 'now'"
    waits = [e for e in events if e.type is TraceEventType.WAIT]
    assert [e.payload["status"] for e in waits] == ["invalid", "waiting"]
    assert "waiting for a human to merge or close pull request #7" in waits[-1].summary


@pytest.mark.parametrize(
    ("answer", "status", "route_outcome"),
    [
        ({"status": "closed", "by": "bob", "detail": "closed"}, "closed", RunOutcome.REJECTED),
        ({"status": "recovered", "detail": "healthy for 60s"}, "recovered", RunOutcome.RECOVERED),
    ],
)
def test_closed_and_recovered_end_the_run_without_a_change(
    answer: dict[str, Any], status: str, route_outcome: RunOutcome
) -> None:
    repo = FakeRepo(pull())
    events: list[TraceEvent] = []
    app = wait_graph(context(repo, None, ManualClock(OPENED), emit=events.append))
    app.graph.invoke(pending_state(), {"configurable": {"thread_id": "run-m"}}, context=app.context)
    result = resume_run(app, "run-m", answer)
    wait = result.state["merge_wait"]
    assert wait["status"] == status and result.stop == "completed"
    outcome, reason = report_outcome(result.state)
    assert outcome is route_outcome
    if status == "closed":
        assert reason == "pull request #7 was closed without merging by bob; nothing was changed"
        assert repo.comments == []
    else:
        assert reason.startswith("recovered without action while pull request #7 waited")
        assert [n for n, _ in repo.comments] == [7], "the pull request says why nobody waits on it"
    assert not to_undo(result.state), "nothing to take back"
    assert [e.payload["status"] for e in events if e.type is TraceEventType.WAIT] == ["waiting", status]


def test_a_merge_records_the_change_as_live_and_undoable() -> None:
    events: list[TraceEvent] = []
    app = wait_graph(context(FakeRepo(pull()), None, ManualClock(OPENED), emit=events.append))
    app.graph.invoke(pending_state(), {"configurable": {"thread_id": "run-m"}}, context=app.context)
    result = resume_run(app, "run-m", {"status": "merged", "by": "alice", "merge_sha": "a" * 40})
    merged = [e for e in result.state["actions"] if e["action"] == "merge"]
    assert len(merged) == 1 and merged[0]["applied"] is True and merged[0]["who"].startswith("alice")
    assert merged[0]["undo"] == {"kind": "revert", "commit": "a" * 40}
    assert [e["id"] for e in to_undo(result.state)] == [merged[0]["id"]]
    assert any(e.type is TraceEventType.ACTION and e.payload["action"] == "merge" for e in events)
    # resumed again (a duplicate answer): the recorded end stands, nothing is added
    again = resume_run(app, "run-m", {"status": "closed"})
    assert again.state["merge_wait"]["status"] == "merged" and len(again.state["actions"]) == 2


def test_a_malformed_answer_and_a_timeout_escalate_with_the_reason() -> None:
    repo = FakeRepo(pull())
    app = wait_graph(context(repo, None, ManualClock(OPENED)))
    app.graph.invoke(pending_state(), {"configurable": {"thread_id": "run-m"}}, context=app.context)
    bad = resume_run(app, "run-m", {"status": "maybe"})
    assert bad.state["merge_wait"]["status"] == "invalid"
    assert escalation_reason(bad.state).startswith("waiting for the pull request failed: malformed answer")

    app = wait_graph(context(repo, None, ManualClock(OPENED)))
    app.graph.invoke(pending_state(), {"configurable": {"thread_id": "run-m"}}, context=app.context)
    late = resume_run(app, "run-m", {"status": "timeout", "detail": "nobody in 7200s"})
    reason = escalation_reason(late.state)
    assert reason.startswith("pull request #7 (file:///repo/.git/paramedic/pulls/7.json) was not merged")
    assert [n for n, _ in repo.comments] == [7]


# -- one look at a time ------------------------------------------------------------------------------


def request() -> MergeWaitRequest:
    return MergeWaitRequest(
        run_id="run-m", attempt=1, pr_number=7, pr_url="u", targets=[TARGET], since=OPENED,
        deadline=OPENED + TIMEOUT,
    )  # fmt: skip


def test_observe_sees_a_merge_or_a_close_first() -> None:
    clock = ManualClock(OPENED + TIMEOUT * 2)  # even past the deadline, a merge is a merge
    merged = observe(context(FakeRepo(pull("merged", merged_by="alice", merge_sha="b" * 40)), None, clock),
                     request(), Watching())  # fmt: skip
    assert merged is not None and (merged.status, merged.by) == ("merged", "alice")
    assert merged.merge_sha == "b" * 40
    closed = observe(context(FakeRepo(pull("closed", closed_by="bob")), None, clock), request(), Watching())
    assert closed is not None and (closed.status, closed.by) == ("closed", "bob")


def test_observe_times_out_at_the_deadline_even_when_the_pull_request_cannot_be_read() -> None:
    clock = ManualClock(OPENED + TIMEOUT - timedelta(seconds=1))
    ctx = context(FakeRepo(None), None, clock)
    assert observe(ctx, request(), Watching()) is None
    clock.now = OPENED + TIMEOUT
    answer = observe(ctx, request(), Watching())
    assert answer is not None and answer.status == "timeout" and "7200s" in answer.detail


def test_observe_sees_a_recovery_only_after_it_held_for_the_stable_window() -> None:
    clock = ManualClock(OPENED)
    cluster = FakeCluster(statuses=[status(ready=True, restarts=2)])
    ctx = context(FakeRepo(pull()), cluster, clock)
    memory = Watching()
    assert observe(ctx, request(), memory) is None and memory.healthy_since == OPENED
    clock.now += timedelta(seconds=30)
    cluster.statuses = [status(ready=True, restarts=3)]  # crashed and came back between looks
    assert observe(ctx, request(), memory) is None and memory.healthy_since is None
    clock.now += timedelta(seconds=30)
    assert observe(ctx, request(), memory) is None
    cluster.statuses = [status(ready=False, restarts=3)]
    clock.now += timedelta(seconds=30)
    assert observe(ctx, request(), memory) is None and memory.healthy_since is None
    cluster.statuses = [status(ready=True, restarts=3)]
    for _ in range(2):
        clock.now += timedelta(seconds=30)
        assert observe(ctx, request(), memory) is None
    clock.now += timedelta(seconds=30)
    answer = observe(ctx, request(), memory)
    assert answer is not None and answer.status == "recovered" and "for 60s" in answer.detail
