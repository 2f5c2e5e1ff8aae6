"""Two `RunService`s over one store and one checkpointer, as two replicas: a run has one owner,
the leader adopts what nobody live owns, answers reach the owner, and a replica whose run was
taken over stops before acting."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent import trace
from graph.context import HealingContext
from graph.runner import HealingApp
from graph.state import HealingState
from graph.tracing import emit
from server.ownership import RunOwnership
from server.run_service import RunService, RunServiceOptions
from server.runstore import RunStatus, RunStore
from tests.agent import evidence_samples as samples
from tests.graph.contexts import healing_context

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


class _Graph:
    """act (guarded, audited) -> optionally approval -> end; `hold` pauses the first drive before acting."""

    def __init__(self, *, ask: bool = False) -> None:
        self.hold = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()
        builder = StateGraph(HealingState, context_schema=HealingContext)
        builder.add_node("pause", self._pause)
        builder.add_node("act", self._act)
        builder.add_node("approval", self._approval)
        builder.add_edge(START, "pause")
        builder.add_edge("pause", "approval" if ask else "act")
        builder.add_edge("approval", "act")
        builder.add_edge("act", END)
        self.compiled = builder.compile(checkpointer=InMemorySaver())

    def _pause(self, state: HealingState) -> dict:
        if self.hold.is_set():
            self.hold.clear()
            self.held.set()
            self.release.wait(10)
        return {}

    def _act(self, state: HealingState, runtime: Runtime[HealingContext]) -> dict:
        runtime.context.guard(state["run_id"])
        emit(trace.action(state["run_id"], "remediation", action_type="restart", who="paramedic",
                          what="restart", why="stuck", diff="", result="ok: restarted",
                          details={"target": "shop/deployment/web-api"}))  # fmt: skip
        return {"outcome": "healed"}

    def _approval(self, state: HealingState) -> dict:
        interrupt({"approval_id": "a1", "expires_at": EXPIRES.isoformat()})
        return {}

    def replica(self, store: RunStore, name: str, clock=None) -> RunService:  # type: ignore[no-untyped-def]
        ownership = RunOwnership(store, name, timeout=20, **({"clock": clock} if clock else {}))
        app = HealingApp(self.compiled, healing_context(guard=ownership.guard))
        options = RunServiceOptions(mode="autonomous", provider="rules", workers=2)
        return RunService(app, store, options, ownership=ownership)


def test_a_follower_opens_the_run_and_the_leader_drives_it(store: RunStore) -> None:
    graph = _Graph()
    leader, follower = graph.replica(store, "a"), graph.replica(store, "b")
    follower.set_leading(False)
    run_id, created = follower.submit(samples.incident())  # an alert posted to the follower
    assert created and follower.wait_idle(5)
    assert store.get_run(run_id).status is RunStatus.QUEUED and store.events(run_id) == []
    assert leader.recover() == [run_id]
    assert leader.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.HEALED
    assert len(store.audit_log(run_id=run_id)) == 1
    assert store.run_claim(run_id) is None, "the claim ends with the run"
    leader.close()
    follower.close()


def test_a_starting_replica_leaves_a_live_replicas_run_alone_and_answers_reach_the_owner(
    store: RunStore,
) -> None:
    graph = _Graph(ask=True)
    owner = graph.replica(store, "a")
    run_id, _ = owner.submit(samples.incident())
    assert owner.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.WAITING_APPROVAL

    starting = graph.replica(store, "b")
    assert starting.recover() == []
    claim = store.run_claim(run_id)
    assert claim is not None and claim.owner == "a"

    # The approval is posted to the replica that does not own the run: it wins the store's
    # compare-and-set there, and waits in the store for the owner, who resumes the run.
    assert starting.answer(run_id, {"approved": True, "by": "alice"}) == "running"
    assert starting.wait_idle(5) and store.audit_log(run_id=run_id) == [], "not driven there"
    assert owner.take_answers() == [run_id]
    assert owner.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.HEALED
    assert len(store.audit_log(run_id=run_id)) == 1
    owner.close()
    starting.close()


def test_a_replica_whose_run_was_adopted_does_not_act_again(store: RunStore) -> None:
    graph = _Graph()
    paused = graph.replica(store, "a")
    graph.hold.set()
    run_id, _ = paused.submit(samples.incident())
    assert graph.held.wait(10)  # replica a is frozen mid-run (a long GC pause, a partition)

    # To the new leader, a's heartbeat is older than the timeout: the run is orphaned.
    later = lambda: datetime.now(UTC) + timedelta(seconds=60)  # noqa: E731
    leader = graph.replica(store, "b", clock=later)
    assert leader.recover() == [run_id]
    assert leader.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.HEALED

    graph.release.set()  # a wakes up and reaches the action: its claim is gone, so it stops
    assert paused.wait_idle(10)
    audit = store.audit_log(run_id=run_id)
    assert len(audit) == 1, "the restart happened once"
    assert store.get_run(run_id).status is RunStatus.HEALED
    paused.close()
    leader.close()
