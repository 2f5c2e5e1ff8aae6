"""Two `paramedic serve` replicas over one sandbox cluster and one PostgreSQL, as processes
(tests/server/ha/conftest.py): one leader watches, one run and at most one pull request per
incident whichever replica is asked, and after a kill -9 of the leader the other replica handles
the next fault within 30 s while honouring the cooldown of the run the dead leader ended."""

from __future__ import annotations

import time
from typing import Any

import pytest

from server.runstore import RunStore
from tests.server.ha.conftest import (
    QUICK_VERIFY,
    Cluster,
    Replica,
    StartReplicas,
    final_runs,
    remediations,
    wait_for,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

NEXT_FAULT_BOUND = 30.0  # issue #20: the survivor handles the next fault within 30 s of the kill


def _next_fault_after_the_kill(cluster: Cluster, survivor: Replica, killed_at: float) -> list[dict[str, Any]]:
    """Inject a fault on `worker` after the leader's kill -9: the survivor's run for it comes within
    30 s of the kill (measured and printed); its runs once settled."""
    cluster.inject("bad_image", "shop/deploy/worker")
    wait_for("the survivor's run for the next fault", lambda: survivor.runs(workload="worker"), 90)
    took = time.monotonic() - killed_at
    print(f"kill -9 of the leader -> {survivor.name}'s run for the next fault: {took:.1f} s")
    assert took < NEXT_FAULT_BOUND, f"the next fault was handled {took:.1f} s after the kill"
    assert cluster.leader() == survivor.name
    runs = wait_for("the next incident's run, settled", lambda: final_runs(survivor, "worker"), 240)
    # Nothing the dead leader held is left blocking its workload.
    assert not survivor.runs(status="running") and not survivor.runs(status="queued")
    return runs


def test_one_leader_one_run_per_incident_and_a_failover_within_30_seconds(
    cluster: Cluster, start_replicas: StartReplicas, shared_store: RunStore
) -> None:
    replicas = start_replicas("report")
    leader_name = wait_for("a leader", cluster.leader, 60)
    leader = replicas[leader_name]
    (follower,) = (r for r in replicas.values() if r.name != leader_name)

    cluster.inject("bad_image", "shop/deploy/web-api")
    runs = wait_for("the first incident's run, settled", lambda: final_runs(follower, "web-api"), 120)
    assert len(runs) == 1, "one run per incident, though both replicas see the cluster"
    first = runs[0]
    assert first["status"] == "reported" and first["diagnosis"]["category"] == "bad_image"
    assert [r["id"] for r in leader.runs(workload="web-api")] == [first["id"]], "one store"
    assert cluster.anomaly_events("shop", "web-api") == 1, "only the leader watches and reports"

    killed_at = leader.kill()
    folded_before = shared_store.get_run(first["id"]).folded  # nobody watches until the next leader
    runs = _next_fault_after_the_kill(cluster, follower, killed_at)
    assert len(runs) == 1 and runs[0]["status"] == "reported"

    # web-api still fails (report mode changes nothing). The new leader's watcher started without
    # the old one's memory and saw it, yet opened no second run: the cooldown of the run the dead
    # leader ended is in the shared store, and the sighting attached to that run.
    wait_for(
        "the new leader's sighting of web-api, attached to the ended run",
        lambda: shared_store.get_run(first["id"]).folded > folded_before,
        60,
    )
    assert [r["id"] for r in follower.runs(workload="web-api")] == [first["id"]]
    assert cluster.anomaly_events("shop", "web-api") == 1, "held back by the restored cooldown"


def test_with_remediation_one_run_and_at_most_one_pull_request_per_incident(
    cluster: Cluster, start_replicas: StartReplicas, shared_store: RunStore
) -> None:
    # Autonomous, the local GitOps repository, auto-merge on: each fix is a pull request merged
    # by the replica driving the run, synced by the sandbox, then verified.
    replicas = start_replicas("autonomous", PARAMEDIC_GIT__AUTO_MERGE="true", **QUICK_VERIFY)
    leader_name = wait_for("a leader", cluster.leader, 60)
    leader = replicas[leader_name]
    (follower,) = (r for r in replicas.values() if r.name != leader_name)

    cluster.inject("bad_image", "shop/deploy/web-api")
    [run] = wait_for("the first incident's run, settled", lambda: final_runs(follower, "web-api"), 240)
    assert run["status"] == "healed", run
    assert cluster.anomaly_events("shop", "web-api") == 1, "one AnomalyDetected -> one run"
    pulls = cluster.pulls(run["fingerprint"])
    assert len(pulls) == 1, f"one pull request for the incident, got {[p.number for p in pulls]}"
    assert pulls[0].state == "merged"
    done, audited = remediations(shared_store, run)
    assert len(done) == 1 and len(audited) == 1, (done, [(a.action, a.what) for a in audited])

    runs = _next_fault_after_the_kill(cluster, follower, leader.kill())
    assert len(runs) == 1, "one run for the next incident"
    assert runs[0]["status"] in ("healed", "waiting_merge", "reported", "escalated"), runs[0]
    assert len(cluster.pulls(runs[0]["fingerprint"])) <= 1, "at most one pull request per incident"
    assert cluster.anomaly_events("shop", "worker") == 1
    # The first incident still has its one run and its one pull request.
    assert [r["id"] for r in follower.runs(workload="web-api")] == [run["id"]]
    assert len(cluster.pulls(run["fingerprint"])) == 1
