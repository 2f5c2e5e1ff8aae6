"""The runs API over a real SQLite store: trigger, list with filters and paging, detail, trace, answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.domain import WorkloadRef
from agent.trace import BLOB_KEY, TraceEvent, TraceEventType
from server.run_service import RunNotWaiting
from server.runstore import ConflictError, RunStatus
from tests.server.api.conftest import AUTH, Api, make_api

PAY = WorkloadRef(namespace="payments", name="ledger")


def test_a_manual_trigger_opens_a_run_and_a_second_one_folds_into_it(api: Api) -> None:
    body = {"namespace": "shop", "name": "web-api", "reason": "SlowCheckout"}
    first = api.client.post("/api/v1/runs", json=body)
    assert first.status_code == 202, first.text
    created = first.json()
    assert created["new"] is True and created["status"] == "queued"
    assert created["url"] == f"/api/v1/runs/{created['run_id']}"
    incident = api.launcher.submitted[0]
    assert incident.trigger.value == "manual" and incident.reason == "SlowCheckout"
    assert incident.target == WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
    assert created["incident_id"] == api.store.get_run(created["run_id"]).incident_id is not None

    again = api.client.post("/api/v1/runs", json=body).json()
    assert again["run_id"] == created["run_id"] and again["new"] is False
    assert again["incident_id"] == created["incident_id"], "the fold names the incident already open"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "web-api"},
        {"namespace": "shop"},
        {"namespace": "Shop!", "name": "web-api"},
        {"namespace": "shop", "name": "web-api", "kind": "Pod"},
        {"namespace": "shop", "name": "web-api", "extra": 1},
    ],
)
def test_invalid_triggers_are_422_and_reach_no_launcher(api: Api, body: dict) -> None:
    answer = api.client.post("/api/v1/runs", json=body)
    assert answer.status_code == 422
    assert api.launcher.submitted == []


def test_without_a_launcher_writes_are_503_with_a_reason(tmp_path: Path) -> None:
    for read_only in make_api(tmp_path, launcher=False):
        read_only.new_run("r1", status=RunStatus.WAITING_APPROVAL)
        trigger = read_only.client.post("/api/v1/runs", json={"namespace": "shop", "name": "web-api"})
        assert trigger.status_code == 503 and "without a run launcher" in trigger.json()["detail"]
        approve = read_only.client.post("/api/v1/runs/r1/approve", json={"by": "ana"})
        assert approve.status_code == 503
        assert read_only.client.get("/api/v1/runs/r1").status_code == 200, "reads still work"


def test_runs_are_listed_newest_first_filtered_and_paged(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(5):
        api.new_run(f"web-{i}", created_at=t0 + timedelta(minutes=i))
    api.new_run("pay-0", target=PAY, status=RunStatus.HEALED, created_at=t0 + timedelta(minutes=10))
    api.new_run("pay-1", target=PAY, status=RunStatus.WAITING_APPROVAL, created_at=t0 + timedelta(minutes=11))

    ids = [r["id"] for r in api.client.get("/api/v1/runs").json()["items"]]
    assert ids == ["pay-1", "pay-0", "web-4", "web-3", "web-2", "web-1", "web-0"]

    def ids_of(**params: object) -> list[str]:
        answer = api.client.get("/api/v1/runs", params=params)
        assert answer.status_code == 200, answer.text
        return [r["id"] for r in answer.json()["items"]]

    assert ids_of(namespace="payments") == ["pay-1", "pay-0"]
    assert ids_of(workload="ledger", status="healed") == ["pay-0"]
    assert ids_of(status=["healed", "waiting_approval"]) == ["pay-1", "pay-0"]
    assert ids_of(namespace="shop", workload="ledger") == []

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3, "namespace": "shop"} | ({"cursor": cursor} if cursor else {})
        page = api.client.get("/api/v1/runs", params=params).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["web-4", "web-3", "web-2", "web-1", "web-0"], "pages neither skip nor repeat"


@pytest.mark.parametrize(
    ("params", "code"),
    [({"status": "sleeping"}, 422), ({"limit": 0}, 422), ({"limit": 201}, 422), ({"cursor": "nope"}, 400)],
)
def test_bad_filters_are_client_errors(api: Api, params: dict, code: int) -> None:
    answer = api.client.get("/api/v1/runs", params=params)
    assert answer.status_code == code, answer.text
    if code == 400:
        assert "cursor" in answer.json()["detail"]


def test_a_run_shows_its_stored_state_and_unknown_runs_are_404(api: Api) -> None:
    api.new_run("r1")
    api.store.update_run(
        "r1",
        diagnosis={"category": "oom", "confidence": 0.9},
        decision={"route": "remediate"},
        actions=[{"action": "patch_resources"}],
        verification={"recovered": True},
        status=RunStatus.HEALED,
    )
    run = api.client.get("/api/v1/runs/r1").json()
    assert run["status"] == "healed" and run["finished_at"] is not None
    assert run["diagnosis"] == {"category": "oom", "confidence": 0.9}
    assert run["decision"] == {"route": "remediate"}
    assert run["actions"] == [{"action": "patch_resources"}]
    assert run["verification"] == {"recovered": True}
    assert run["target"] == {"namespace": "shop", "kind": "Deployment", "name": "web-api"}
    missing = api.client.get("/api/v1/runs/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "unknown run 'nope'"}
    assert api.client.get("/api/v1/runs/nope/trace").status_code == 404


def test_the_trace_is_complete_ordered_and_blobs_are_inlined_on_request(api: Api) -> None:
    api.new_run("r1")
    big = "log line\n" * 1000  # over the blob threshold: stored once, referenced
    api.store.append_event(
        "r1", TraceEvent(run_id="r1", type=TraceEventType.NOTE, summary="fetched logs", payload={"logs": big})
    )
    api.emit("r1", 1200)  # more than one store page

    full = api.client.get("/api/v1/runs/r1/trace").json()
    assert full["run_id"] == "r1" and full["status"] == "running" and full["inlined"] is True
    assert [e["seq"] for e in full["events"]] == list(range(1, 1202))
    assert full["events"][0]["payload"]["logs"] == big

    referenced = api.client.get("/api/v1/runs/r1/trace", params={"inline": "false"}).json()
    first = referenced["events"][0]
    assert first["payload"]["logs"] == {BLOB_KEY: first["blobs"][0]["sha256"]}
    assert referenced["inlined"] is False


def _waiting(api: Api, run_id: str = "r1") -> None:
    api.new_run(run_id, status=RunStatus.WAITING_APPROVAL)


def test_approving_resumes_the_run_once_then_answers_409_with_its_status(api: Api) -> None:
    _waiting(api)
    first = api.client.post("/api/v1/runs/r1/approve", json={"by": "ana", "comment": "go"})
    assert first.status_code == 200, first.text
    assert first.json() == {"run_id": "r1", "approved": True, "status": "running"}
    assert api.launcher.answers == [("r1", {"approved": True, "by": "ana", "comment": "go"})]

    again = api.client.post("/api/v1/runs/r1/approve", json={"by": "ana"})
    assert again.status_code == 409
    assert again.json()["status"] == "running" and "not waiting" in again.json()["detail"]
    late_reject = api.client.post("/api/v1/runs/r1/reject", json={"by": "bob"})
    assert late_reject.status_code == 409
    assert len(api.launcher.answers) == 1, "a second answer never resumes the run again"
    events = api.client.get("/api/v1/runs/r1/trace").json()["events"]
    assert [e["type"] for e in events] == [TraceEventType.APPROVAL.value]


def test_rejecting_finishes_the_run(api: Api) -> None:
    _waiting(api)
    answer = api.client.post("/api/v1/runs/r1/reject", json={"by": "bob", "comment": "not now"})
    assert answer.json() == {"run_id": "r1", "approved": False, "status": "rejected"}
    assert api.store.get_run("r1").status is RunStatus.REJECTED


@pytest.mark.parametrize("error", [RunNotWaiting, ConflictError])
def test_a_lost_race_inside_the_launcher_is_a_409_too(api: Api, error: type[Exception]) -> None:
    _waiting(api)

    def racing(run_id: str, answer: dict) -> str:
        api.store.update_run(run_id, status=RunStatus.REJECTED)  # another replica answered first
        raise error("not waiting")

    api.launcher.answer = racing  # type: ignore[method-assign]
    answer = api.client.post("/api/v1/runs/r1/approve", json={"by": "ana"})
    assert answer.status_code == 409 and answer.json()["status"] == "rejected"


def test_answers_need_a_name_and_a_known_run(api: Api) -> None:
    _waiting(api)
    assert api.client.post("/api/v1/runs/r1/approve", json={}).status_code == 422
    assert api.client.post("/api/v1/runs/r1/approve", json={"by": ""}).status_code == 422
    assert api.client.post("/api/v1/runs/zz/approve", json={"by": "ana"}).status_code == 404
    assert api.launcher.answers == []


def test_mutations_need_the_token_when_one_is_configured(secured: Api) -> None:
    secured.new_run("r1", status=RunStatus.WAITING_APPROVAL)
    trigger = {"namespace": "shop", "name": "web-api"}
    for path, body in (("/api/v1/runs", trigger), ("/api/v1/runs/r1/approve", {"by": "a"}),
                       ("/api/v1/runs/r1/reject", {"by": "a"})):  # fmt: skip
        refused = secured.client.post(path, json=body)
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        wrong = secured.client.post(path, json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
    assert secured.launcher.submitted == [] and secured.launcher.answers == []
    assert secured.client.get("/api/v1/runs").status_code == 401, "reads need the configured token too"
    assert secured.client.get("/api/v1/runs", headers=AUTH).status_code == 200
    assert secured.client.post("/api/v1/runs", json=trigger, headers=AUTH).status_code == 202
    assert secured.client.post("/api/v1/runs/r1/approve", json={"by": "a"}, headers=AUTH).status_code == 200


def test_reads_can_be_protected(tmp_path: Path) -> None:
    for guarded in make_api(tmp_path, token="t", protect_reads=True):
        guarded.new_run("r1")
        for path in ("/api/v1/runs", "/api/v1/runs/r1", "/api/v1/runs/r1/trace", "/api/v1/incidents",
                     "/api/v1/runs/r1/events", "/api/v1/events", "/metrics"):  # fmt: skip
            assert guarded.client.get(path).status_code == 401, path
        ok = guarded.client.get("/api/v1/runs/r1", headers={"Authorization": "Bearer t"})
        assert ok.status_code == 200
        assert guarded.client.get("/healthz").status_code == 200, "probes stay open for the kubelet"
        assert guarded.client.get("/readyz").status_code == 200
