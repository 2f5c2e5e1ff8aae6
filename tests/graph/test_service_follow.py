"""A Service whose selector a commit moved off every pod: the consumer's run follows the Service, reads
its selector against the pods' labels and the history of its manifest, reverts the commit, and
verifies the Service has ready endpoints again and the consumer is healthy. The consumer is never
touched. `judge_service` is the Service's health as verification reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent import incident_labels as L
from agent.domain import Incident, Trigger, WorkloadRef, fingerprint
from graph.nodes.rollback import _entry_target
from graph.policies.evaluate import evaluate
from graph.runner import start_run
from graph.state import RunOutcome, incident_diagnosis, subject_of
from graph.workload_health import judge_service
from sandbox.resources import SERVICES
from tests.graph.sandbox_graph import NAMESPACE, healing_sandbox, remediations
from tests.incidents import make_incident
from tools.kubernetes import LabelledPod, ServiceStatus

SELECTOR = {"app.kubernetes.io/name": "redis"}


def _service(selector: dict[str, str], *pods: LabelledPod) -> ServiceStatus:
    return ServiceStatus(namespace="shop", name="redis", selector=selector, pods=list(pods))


def test_a_service_is_healthy_only_with_a_ready_endpoint() -> None:
    ready = LabelledPod(name="redis-1", labels=SELECTOR, ready=True)
    unready = LabelledPod(name="redis-1", labels=SELECTOR, ready=False)
    other = LabelledPod(name="worker-1", labels={"app.kubernetes.io/name": "worker"}, ready=True)
    health = judge_service(_service(SELECTOR, ready, other))
    assert health.healthy and "1 ready endpoint(s)" in health.detail
    assert "matches no pod" in judge_service(_service({"app.kubernetes.io/name": "x"}, ready, other)).detail
    assert "none ready" in judge_service(_service(SELECTOR, unready)).detail
    assert not judge_service(_service({}, ready)).healthy, "no selector: nothing to judge from pods"


def test_a_service_changes_only_through_git() -> None:
    service = WorkloadRef(namespace="shop", kind="Service", name="redis")
    assert evaluate("revert_commit", service, parameters={"commit": "c0ffee12"}).allowed
    for action in ("restart", "scale", "rollback", "patch"):
        verdict = evaluate(action, service, parameters={"replicas": 2} if action == "scale" else {})
        assert not verdict.allowed and any("Service" in r for r in verdict.reasons), (action, verdict)


def test_a_change_to_a_service_is_taken_back_on_the_service() -> None:
    # the rollback node reads an entry's target back from its text: a Service must not fall back
    # to the incident's workload (the victim, which must never be touched)
    service = WorkloadRef(namespace="shop", kind="Service", name="redis")
    assert WorkloadRef.parse(str(service)) == service
    target = WorkloadRef(namespace="shop", name="worker")
    worker = Incident(
        id="i", fingerprint=fingerprint(target, "x"), target=target, trigger=Trigger.WATCHER, reason="x"
    )
    assert _entry_target({"target": str(service)}, worker) == service  # type: ignore[typeddict-item]


@pytest.mark.e2e
def test_a_service_selector_commit_is_reverted_and_verified_through_its_endpoints(tmp_path: Path) -> None:
    with healing_sandbox(tmp_path) as harness:
        bad = harness.sb.commit_patch(
            "Service shop/redis",
            {"spec": {"selector": {"app.kubernetes.io/name": "redis-primary"}}},
            "redis: select the primary only",
        )
        harness.sb.advance(120)
        worker = WorkloadRef(namespace=NAMESPACE, name="worker")
        incident = make_incident(
            worker,
            "DependencyUnreachable",
            id="inc-worker",
            labels={L.DEPENDENCY: "Service shop/redis", L.DEPENDENCY_STATE: L.SELECTOR_MATCHES_NOTHING},
            started_at=harness.clock(),
        )
        result = start_run(harness.app(harness.context()), "run-svc", incident, harness.events.append)

        state = result.state
        assert result.outcome == RunOutcome.HEALED.value, state.get("outcome_reason")
        diagnosis = incident_diagnosis(state)
        assert diagnosis is not None and diagnosis.faulty_resource == "Service shop/redis"
        assert str(subject_of(state)) == "shop/service/redis"
        # one change, to the Service, by reverting exactly the commit that moved its selector
        [entry] = remediations(state)
        assert entry["target"] == "shop/service/redis" and entry["action"] == "revert_commit"
        assert bad[:12] in entry["what"] and entry["applied"]
        live = harness.sb.store.find(SERVICES, NAMESPACE, "redis")
        assert live is not None and live["spec"]["selector"] == SELECTOR
        # verified through the Service's endpoints first, then the worker whose users were hurt
        [verified] = state["verifications"]
        assert "shop/service/redis: 1 ready endpoint(s)" in verified["detail"]
        assert "shop/deployment/worker:" in verified["detail"]
