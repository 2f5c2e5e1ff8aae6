from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from agent.domain import Incident, Trigger, WorkloadRef
from server.crd import (
    AnomalyReporter,
    EventEmitter,
    EventReason,
    WatchCondition,
    WatchPhase,
    WatchStatus,
    event_body,
    merge_conditions,
    status_patch,
    write_watch_status,
)
from tests.tools.kubernetes import conftest as kube_fixtures
from tests.tools.kubernetes.conftest import Answer, FakeApi
from tools.kubernetes.client import KubeClient

NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
WEB = WorkloadRef(namespace="shop", kind="Deployment", name="web-api")


def test_status_patch_sends_only_what_is_set() -> None:
    status = WatchStatus(
        phase=WatchPhase.HEALING,
        last_pull_request="https://git.local/shop/pulls/7",
        healing_score=0.5,
        last_anomaly_time=NOW,
    )
    patch = status_patch(status, None, NOW)
    assert patch == {
        "status": {
            "phase": "Healing",
            "lastPullRequest": "https://git.local/shop/pulls/7",
            "healingScore": 0.5,
            "lastAnomalyTime": "2025-06-02T09:30:00Z",
        }
    }


def test_condition_keeps_its_transition_time_while_its_status_holds() -> None:
    existing = [
        {
            "type": "Ready",
            "status": "True",
            "reason": "Healthy",
            "lastTransitionTime": "2025-06-01T00:00:00Z",
        },
        {"type": "Other", "status": "False", "reason": "Kept", "lastTransitionTime": "2025-06-01T00:00:00Z"},
    ]
    same = merge_conditions(
        existing, [WatchCondition(type="Ready", status="True", reason="StillHealthy")], NOW
    )
    assert same[0]["lastTransitionTime"] == "2025-06-01T00:00:00Z" and same[0]["reason"] == "StillHealthy"
    assert same[1] == existing[1]
    flipped = merge_conditions(
        existing, [WatchCondition(type="Ready", status="False", reason="Degraded")], NOW
    )
    assert flipped[0]["lastTransitionTime"] == "2025-06-02T09:30:00Z"
    new = merge_conditions([], [WatchCondition(type="Healing", status="True", reason="RunStarted")], NOW)
    assert new == [{"type": "Healing", "status": "True", "reason": "RunStarted", "message": "",
                    "lastTransitionTime": "2025-06-02T09:30:00Z"}]  # fmt: skip


def test_status_patch_sends_conditions_whole() -> None:
    current = {
        "status": {"conditions": [{"type": "A", "status": "True", "reason": "X", "lastTransitionTime": "t"}]}
    }
    patch = status_patch(
        WatchStatus(conditions=[WatchCondition(type="B", status="False", reason="Y")]), current, NOW
    )
    assert [c["type"] for c in patch["status"]["conditions"]] == ["A", "B"]


@pytest.mark.parametrize("bad", [{"healing_score": 1.5}, {"phase": "Sleeping"}])
def test_bad_status_is_refused(bad: dict) -> None:
    with pytest.raises(ValidationError):
        WatchStatus(**bad)


def test_condition_reason_must_be_camel_case() -> None:
    with pytest.raises(ValidationError):
        WatchCondition(type="Ready", status="True", reason="not a reason")


def test_event_body_is_a_paramedic_event_on_the_workload() -> None:
    body = event_body(
        WEB, EventReason.ANOMALY_DETECTED, "OOMKilled:\n container app", NOW, uid="u-1", instance="pm-0"
    )
    assert body["involvedObject"] == {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                                      "name": "web-api", "uid": "u-1"}  # fmt: skip
    assert body["metadata"]["namespace"] == "shop" and body["metadata"]["name"].startswith("web-api.")
    assert body["reason"] == "AnomalyDetected" and body["type"] == "Warning"
    assert body["message"] == "OOMKilled: container app"
    assert body["reportingComponent"] == "paramedic" and body["source"] == {"component": "paramedic"}
    assert body["reportingInstance"] == "pm-0"
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2025-06-02T09:30:00Z"


def test_event_names_are_unique_and_messages_capped() -> None:
    a = event_body(WEB, EventReason.DIAGNOSIS_COMPLETE, "x" * 5000, NOW)
    b = event_body(WEB, EventReason.DIAGNOSIS_COMPLETE, "y", NOW + timedelta(seconds=1))
    assert a["metadata"]["name"] != b["metadata"]["name"]
    assert len(a["message"]) == 1024 and a["type"] == "Normal"


def test_event_needs_a_message() -> None:
    with pytest.raises(ValueError, match="message"):
        event_body(WEB, EventReason.HEALING_CAP_REACHED, "  ", NOW)


# -- over HTTP, against the recorded-response API server of the Kubernetes tools' tests -----------
# (these fixtures should move to tests/conftest.py; bound here so pytest registers them for this module)
fake_api = kube_fixtures.fake_api
kube_for = kube_fixtures.kube_for
fake_kube = kube_fixtures.fake_kube

WATCH_PATH = "/apis/paramedic.dev/v1alpha1/namespaces/shop/paramedicwatches/web"
STATUS_PATH = WATCH_PATH + "/status"


def test_write_watch_status_merges_conditions_through_the_status_subresource(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "Healthy",
        "lastTransitionTime": "2025-06-01T00:00:00Z",
    }
    current = {"metadata": {"name": "web", "namespace": "shop"}, "status": {"conditions": [ready]}}
    fake_api.on("GET", WATCH_PATH, Answer(body=current))
    fake_api.on("PATCH", STATUS_PATH, Answer(body={**current, "status": {"phase": "Healing"}}))
    status = WatchStatus(
        phase=WatchPhase.HEALING, conditions=[WatchCondition(type="Ready", status="False", reason="Degraded")]
    )
    result = write_watch_status(fake_kube, "shop", "web", status, clock=lambda: NOW)
    assert result.ok, result.error
    (patch,) = fake_api.requests("PATCH")
    assert patch.headers["content-type"] == "application/merge-patch+json"
    assert patch.json() == {"status": {"phase": "Healing", "conditions": [
        {"type": "Ready", "status": "False", "reason": "Degraded", "message": "",
         "lastTransitionTime": "2025-06-02T09:30:00Z"}]}}  # fmt: skip


def test_write_watch_status_without_conditions_does_not_read_first(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    fake_api.on("PATCH", STATUS_PATH, Answer(body={"status": {"phase": "Healthy"}}))
    assert write_watch_status(fake_kube, "shop", "web", WatchStatus(phase=WatchPhase.HEALTHY)).ok
    assert fake_api.requests("GET") == []


def test_missing_watch_is_a_result_not_an_exception(fake_api: FakeApi, fake_kube: KubeClient) -> None:
    result = write_watch_status(fake_kube, "shop", "web", WatchStatus(phase=WatchPhase.HEALTHY))
    assert not result.ok and "not found" in (result.error or "")


def test_anomaly_reporter_records_an_event_and_degrades_the_watch(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    fake_api.on("POST", "/api/v1/namespaces/shop/events", Answer(201, body={"kind": "Event"}))
    fake_api.on("PATCH", STATUS_PATH, Answer(body={"status": {"phase": "Degraded"}}))
    incident = Incident(
        id="i1", fingerprint="f", target=WEB, trigger=Trigger.WATCHER, reason="OOMKilled",
        summary="container app was OOMKilled", started_at=NOW, labels={"paramedic.dev/watch": "shop/web"},
    )  # fmt: skip
    results = AnomalyReporter(fake_kube, EventEmitter(fake_kube, clock=lambda: NOW, instance="pm-0"))(
        incident
    )
    assert [r.ok for r in results] == [True, True]
    (event,) = fake_api.requests("POST")
    assert event.json()["reason"] == "AnomalyDetected"
    assert event.json()["message"] == "OOMKilled: container app was OOMKilled"
    (patch,) = fake_api.requests("PATCH")
    assert patch.json() == {"status": {"phase": "Degraded", "lastAnomalyTime": "2025-06-02T09:30:00Z"}}


def test_anomaly_reporter_without_a_watch_only_records_the_event(
    fake_api: FakeApi, fake_kube: KubeClient
) -> None:
    fake_api.on("POST", "/api/v1/namespaces/shop/events", Answer(201, body={"kind": "Event"}))
    incident = Incident(
        id="i2", fingerprint="f", target=WEB, trigger=Trigger.WATCHER, reason="CrashLoopBackOff"
    )
    assert [r.ok for r in AnomalyReporter(fake_kube)(incident)] == [True]
    assert fake_api.requests("PATCH") == []
