"""`RunService` over a real SQLite store and a small checkpointed graph: runs open, fold, stream
their trace into the store, audit their actions, wait for and take approvals, fail visibly,
recover after a crash, and time out unanswered approvals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from agent import trace
from agent.domain import Trigger, WorkloadRef, fingerprint
from graph.runner import HealingApp, start_run
from graph.state import HealingState
from graph.tracing import emit
from server.run_service import RunNotWaiting, RunService, RunServiceOptions
from server.runstore.models import NewRun, RunStatus
from tests.agent import evidence_samples as samples
from tests.graph.contexts import healing_context

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


class Crash(RuntimeError):
    """A node dies."""


def _app(*, ask: bool = False, crash: list[bool] | None = None):
    def act(state: HealingState) -> dict:
        emit(trace.action(state["run_id"], "remediation", action_type="restart", who="paramedic",
                          what="restart", why="stuck", diff="", result="ok: restarted",
                          details={"target": "shop/deployment/web-api"}))  # fmt: skip
        return {}

    def approval(state: HealingState) -> dict:
        answer = interrupt({"approval_id": "a1", "expires_at": EXPIRES.isoformat()})
        if answer.get("timed_out"):
            return {"outcome": "escalated", "outcome_reason": "approval expired"}
        return {"outcome": "healed" if answer["approved"] else "rejected"}

    def finish(state: HealingState) -> dict:
        if crash:
            crash.pop()
            raise Crash("node died")
        return {} if state.get("outcome") else {"outcome": "healed"}

    builder = StateGraph(HealingState)
    builder.add_node("act", act)
    builder.add_node("approval", approval)
    builder.add_node("finish", finish)
    builder.add_edge(START, "act")
    builder.add_edge("act", "approval" if ask else "finish")
    builder.add_edge("approval", "finish")
    builder.add_edge("finish", END)
    return HealingApp(builder.compile(checkpointer=InMemorySaver()), healing_context())


def _service(app, store) -> RunService:
    return RunService(app, store, RunServiceOptions(mode="autonomous", provider="rules", workers=2))


def test_a_run_is_driven_its_trace_stored_and_its_action_audited(store) -> None:
    service = _service(_app(), store)
    run_id, created = service.submit(samples.incident())
    assert created and service.wait_idle(10)
    run = store.get_run(run_id)
    assert run.status is RunStatus.HEALED and run.finished_at is not None
    events = store.events(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1)) and events[0].type == "action"
    audit = store.audit_log(run_id=run_id)
    assert [(a.action, a.who, a.result) for a in audit] == [("restart", "paramedic", "ok: restarted")]
    service.close()


def test_a_second_sighting_folds_into_the_active_run_and_answers_resume_it(store) -> None:
    service = _service(_app(ask=True), store)
    run_id, created = service.submit(samples.incident())
    assert created and service.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.WAITING_APPROVAL
    again, created_again = service.submit(samples.incident())
    assert (again, created_again) == (run_id, False)
    assert service.answer(run_id, {"approved": True, "by": "alice"}) == "running"
    assert service.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.HEALED
    with pytest.raises(RunNotWaiting):
        service.answer(run_id, {"approved": True, "by": "alice"})
    service.close()


def test_another_fingerprint_on_a_busy_workload_folds_into_its_run(store) -> None:
    # The watcher saw CrashLoopBackOff; then Alertmanager fires for the same workload. One run.
    service = _service(_app(ask=True), store)
    run_id, created = service.submit(samples.incident())
    assert created and service.wait_idle(10)
    alert = samples.incident("alert:KubePodCrashLooping").model_copy(
        update={"id": "inc-alert", "trigger": Trigger.ALERT}
    )
    assert alert.fingerprint != samples.incident().fingerprint
    assert service.submit(alert) == (run_id, False)
    assert [r.id for r in store.list_runs().items] == [run_id], "no second run on web-api"
    note = store.events(run_id)[-1]
    assert note.type == "note" and "also reported by alert as 'alert:KubePodCrashLooping'" in note.summary
    assert note.payload["fingerprint"] == alert.fingerprint and note.payload["trigger"] == "alert"
    run_incident = store.get_run(run_id).incident_id
    assert note.payload["incident_id"] == run_incident, "one workload failing is one incident"
    assert store.get_incident(str(run_incident)).count == 2 and len(store.list_incidents().items) == 1

    # another workload is not held up, and once the run ends the alert's workload opens a new one
    worker = WorkloadRef(namespace="shop", name="worker")
    other = alert.model_copy(
        update={"id": "inc-worker", "target": worker, "fingerprint": fingerprint(worker, alert.reason)}
    )
    other_id, other_created = service.submit(other)
    assert other_created and other_id != run_id
    assert service.answer(run_id, {"approved": True, "by": "alice"}) == "running"
    assert service.wait_idle(10)
    # within the workload's cooldown the alert attaches to the run that ended (as the watcher's
    # cooldown holds it back); the cooldown over, it opens a new run
    assert service.submit(alert) == (run_id, False)
    store.open_attach_window(run_id, datetime.now(UTC) - timedelta(seconds=1))
    again, created = service.submit(alert)
    assert created and again not in (run_id, other_id)
    service.close()


def test_a_sighting_the_moment_a_run_ends_attaches_to_it_and_opens_no_second_run(store) -> None:
    # Alert storms hit the instant between the run's end and its cooldown window (seen under
    # load): the end and the window are one write, so that instant does not exist.
    service = _service(_app(), store)
    seen: list[tuple[str, bool]] = []
    update_run = store.update_run

    def update_then_sight(run_id: str, **changes):
        record = update_run(run_id, **changes)
        if not record.status.active:
            seen.append(service.submit(samples.incident()))
        return record

    store.update_run = update_then_sight
    run_id, created = service.submit(samples.incident())
    assert created and service.wait_idle(10)
    assert seen == [(run_id, False)], "the sighting attached to the run that just ended"
    assert [r.id for r in store.list_runs().items] == [run_id]
    service.close()


def test_a_node_that_raises_fails_the_run_with_its_error(store) -> None:
    service = _service(_app(crash=[True]), store)
    run_id, _ = service.submit(samples.incident())
    assert service.wait_idle(10)
    failed = store.get_run(run_id)
    assert failed.status is RunStatus.FAILED and "Crash: node died" in (failed.error or "")
    service.close()


def test_recover_continues_a_run_a_dead_process_left_running(store) -> None:
    app = _app(crash=[True])
    incident = samples.incident()
    # The dead process: it opened the run, drove it into a node, and died there (no status update).
    opened = NewRun(
        fingerprint=incident.fingerprint,
        target=incident.target,
        mode="autonomous",
        provider="rules",
        status=RunStatus.RUNNING,
    )
    run, _ = store.open_run(opened)
    with pytest.raises(Crash):
        start_run(app, run.id, incident)
    service = _service(app, store)
    assert service.recover() == [run.id]
    assert service.wait_idle(10)
    assert store.get_run(run.id).status is RunStatus.HEALED
    service.close()


def test_unanswered_approvals_time_out_and_escalate(store) -> None:
    service = _service(_app(ask=True), store)
    run_id, _ = service.submit(samples.incident())
    assert service.wait_idle(10)
    assert service.expire_approvals(EXPIRES - timedelta(seconds=1)) == []
    assert store.get_run(run_id).status is RunStatus.WAITING_APPROVAL
    assert service.expire_approvals(EXPIRES + timedelta(seconds=1)) == [run_id]
    assert service.wait_idle(10)
    assert store.get_run(run_id).status is RunStatus.ESCALATED
    service.close()
