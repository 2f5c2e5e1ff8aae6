"""A run that opened a pull request waits for it, on `serve --sandbox` as a user runs it (autonomous
mode, local GitOps, no auto-merge, an OOM fault on web-api): one incident and one waiting run however
often the watcher sees the failure; then each way the wait ends, on the same run: the pull request
closed (rejected), the workload recovering on its own (recovered), nobody acting in time (escalated),
and a merge after a restart of the service (the wait survives it; the run heals)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sse_starlette.sse import AppStatus

from agent.trace import TraceEventType
from graph.policies import PolicyConfig, RemediationPolicy
from sandbox.cluster import Sandbox
from server.runstore import IncidentStatus, RunRecord, RunStatus
from tests.server.sandboxed import FACTOR, TOKEN, Served, served, service
from tools.gitops.local import LocalGitRepo
from tools.gitops.records import Workload

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def waiting_run(running: Served) -> RunRecord:
    """Inject the OOM fault and wait for the run that waits on its pull request."""
    running.inject("oom")
    return running.wait_status(RunStatus.WAITING_MERGE)


def wait_statuses(running: Served, run: RunRecord) -> list[str]:
    return [
        str(e.payload["status"])
        for e in running.store.events(run.id, limit=1000)
        if e.type is TraceEventType.WAIT
    ]


def test_one_incident_and_one_run_wait_on_the_pull_request_until_it_is_closed(tmp_path: Path) -> None:
    with served(tmp_path) as running:
        run = waiting_run(running)
        running.sim_wait(90)
        [only] = running.runs()
        assert only.id == run.id and only.status is RunStatus.WAITING_MERGE, "no second run in 90 s"
        assert only.folded > 0, "the watcher kept seeing it: counted on the waiting run"
        [incident] = running.store.list_incidents().items
        assert incident.status is IncidentStatus.OPEN and incident.count == only.folded + 1
        [pull] = running.desk.list()
        assert (pull.state, pull.run_id, pull.link) == ("open", run.id, "/ui/pulls/1")

        closed = running.desk.close(1, by="bob", comment="we will raise the limit by hand", via="test")
        assert closed.state == "closed" and closed.closed_by == "bob"
        ended = running.wait_status(RunStatus.REJECTED, timeout=30)
        assert ended.id == run.id
        assert wait_statuses(running, run) == ["waiting", "closed"]
        audit = running.store.audit_log(run_id=run.id)
        assert any(a.who == "bob" and a.action == "close_pr" for a in audit), "the human is named"
        assert running.store.get_incident(incident.id).status is IncidentStatus.OPEN, "still failing"
        assert [r.id for r in running.runs()] == [run.id]
        # The wait is in the trace and on the run's SSE stream (which ends: the run is final).
        with TestClient(running.app) as client:
            trace = client.get(f"/api/v1/runs/{run.id}/trace", headers=AUTH).json()
            waits = [e["payload"]["status"] for e in trace["events"] if e["type"] == "wait"]
            assert waits == ["waiting", "closed"]
            AppStatus.should_exit = False  # a server stopped earlier in this process must not close it
            stream = client.get(f"/api/v1/runs/{run.id}/events", headers=AUTH).text
        assert stream.count("event: wait") == 2 and "event: end" in stream


def test_a_workload_that_recovers_on_its_own_ends_the_run_recovered_without_action(tmp_path: Path) -> None:
    with served(tmp_path) as running:
        fault = running.inject("oom")
        run = running.wait_status(RunStatus.WAITING_MERGE)
        running.sb.clear(fault)  # fixed outside Paramedic (someone reverted it on main)
        ended = running.wait_status(RunStatus.RECOVERED, timeout=60)
        assert ended.id == run.id and ended.finished_at is not None
        assert wait_statuses(running, run) == ["waiting", "recovered"]
        # The incident is resolved as the run's books close, just after its end is stored.
        running.wait_for(
            "the incident resolved",
            lambda: running.store.get_incident(str(run.incident_id)).status is IncidentStatus.RESOLVED,
            timeout=10,
        )
        [pull] = running.desk.list()
        assert pull.state == "open", "left to humans, with a comment saying nobody waits on it"
        comments = LocalGitRepo(running.sb.repo_path).comments(1)
        assert comments and "recovered without this change" in comments[-1].body
        assert [a.action for a in running.store.audit_log(run_id=run.id)].count("merge") == 0


def test_nobody_merging_in_time_escalates_and_notifies(tmp_path: Path) -> None:
    with served(tmp_path, merge_timeout_seconds=120.0) as running:
        run = waiting_run(running)
        ended = running.wait_status(RunStatus.ESCALATED, timeout=30 + 120 / FACTOR)
        assert ended.id == run.id
        assert wait_statuses(running, run) == ["waiting", "timeout"]
        events = running.store.events(run.id, limit=1000)
        notify = [e for e in events if e.type is TraceEventType.ACTION and e.node == "escalate"]
        assert notify and notify[-1].payload["action"] == "notify", "humans are told"
        assert "pull request #1" in notify[-1].payload["why"] and "not merged" in notify[-1].payload["why"]
        assert running.store.get_incident(str(run.incident_id)).status is IncidentStatus.OPEN


def test_the_wait_survives_a_restart_and_a_merge_heals_the_same_run(tmp_path: Path) -> None:
    with Sandbox(workdir=tmp_path / "sandbox", seed=7, time_factor=FACTOR) as sb:
        sb.wait_healthy(timeout=60)
        with service(sb, tmp_path / "data") as first:
            run = waiting_run(first)
        # The service is down; a human merges the pull request with other tooling meanwhile.
        guard = RemediationPolicy(PolicyConfig(allow_merge=True))
        merged = LocalGitRepo(sb.repo_path).merge_pull_request(
            1, guard=guard, workload=Workload("Deployment", "web-api", "shop"), by="alice"
        )
        assert merged.ok, merged.error
        # A new process: start-up recovery looks at the waiting pull request (no sweep for an hour).
        with service(sb, tmp_path / "data", poll=3600) as second:
            healed = second.wait_status(RunStatus.HEALED, timeout=60)
            assert healed.id == run.id and [r.id for r in second.runs()] == [run.id]
            assert wait_statuses(second, run) == ["waiting", "merged"]
            merge = [a for a in healed.actions if isinstance(a, dict) and a.get("action") == "merge"]
            assert merge and str(merge[0]["who"]).startswith("alice")
            assert sb.healthy(), "the sandbox agrees the workload recovered"
            second.wait_for(
                "the incident resolved",
                lambda: second.store.get_incident(str(run.incident_id)).status is IncidentStatus.RESOLVED,
                timeout=10,
            )
