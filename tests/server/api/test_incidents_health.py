"""Incidents routes, liveness, readiness (storage and the cluster probe) and the Prometheus metrics."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.domain import Incident, Trigger, WorkloadRef
from server.prometheus_exporter import Metrics, metrics_of
from server.runstore import IncidentStatus
from tests.server.api.conftest import Api

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _incident(api: Api, incident_id: str, namespace: str = "shop", minutes: int = 0) -> None:
    api.store.record_incident(
        Incident(
            id=incident_id,
            fingerprint=f"fp-{incident_id}",
            target=WorkloadRef(namespace=namespace, name="web"),
            trigger=Trigger.WATCHER,
            reason="CrashLoopBackOff",
            started_at=T0,
        ),
        seen_at=T0 + timedelta(minutes=minutes),
    )


def test_incidents_are_listed_filtered_paged_and_shown(api: Api) -> None:
    for i in range(3):
        _incident(api, f"i{i}", minutes=i)
    _incident(api, "p0", namespace="payments", minutes=5)
    api.store.set_incident_status("i0", IncidentStatus.RESOLVED)

    def ids(**params: object) -> list[str]:
        answer = api.client.get("/api/v1/incidents", params=params)
        assert answer.status_code == 200, answer.text
        return [i["id"] for i in answer.json()["items"]]

    assert ids() == ["p0", "i2", "i1", "i0"]
    assert ids(namespace="shop", status="open") == ["i2", "i1"]
    assert ids(status="resolved") == ["i0"]
    page = api.client.get("/api/v1/incidents", params={"limit": 2}).json()
    rest = api.client.get("/api/v1/incidents", params={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [i["id"] for i in page["items"] + rest["items"]] == ["p0", "i2", "i1", "i0"]
    assert rest["next_cursor"] is None

    one = api.client.get("/api/v1/incidents/i1").json()
    assert one["reason"] == "CrashLoopBackOff" and one["count"] == 1 and one["status"] == "open"
    missing = api.client.get("/api/v1/incidents/nope")
    assert missing.status_code == 404 and missing.json() == {"detail": "unknown incident 'nope'"}
    assert api.client.get("/api/v1/incidents", params={"status": "gone"}).status_code == 422
    assert api.client.get("/api/v1/incidents", params={"cursor": "x"}).status_code == 400


def test_healthz_answers_and_readyz_checks_the_store(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"storage": {"ok": True, "detail": ""}}}
    api.store.close()  # the database is gone
    down = api.client.get("/readyz")
    assert down.status_code == 503
    assert down.json()["ready"] is False and down.json()["checks"]["storage"]["ok"] is False
    assert down.json()["checks"]["storage"]["detail"]
    assert api.client.get("/healthz").status_code == 200, "liveness does not depend on storage"


def _raise() -> bool:
    raise ConnectionError("connection refused")


async def _async_ok() -> bool:
    return True


@pytest.mark.parametrize(
    ("probe", "ok", "detail"),
    [
        (lambda: True, True, ""),
        (_async_ok, True, ""),
        (lambda: False, False, "not reachable"),
        (lambda: "API server answered 403", False, "API server answered 403"),
        (_raise, False, "ConnectionError: connection refused"),
    ],
)
def test_readyz_asks_the_cluster_probe(api: Api, probe, ok: bool, detail: str) -> None:
    api.context.extras["cluster_ready"] = probe
    answer = api.client.get("/readyz")
    assert answer.status_code == (200 if ok else 503)
    assert answer.json()["checks"]["cluster"] == {"ok": ok, "detail": detail}
    assert answer.json()["checks"]["storage"]["ok"] is True


def test_a_hung_cluster_probe_makes_the_server_unready_not_hung(api: Api, monkeypatch) -> None:
    monkeypatch.setattr("server.routes.probes.READY_TIMEOUT", 0.2)
    release = threading.Event()  # the probe hangs until the test is done with it
    api.context.extras["cluster_ready"] = lambda: release.wait(60) or True
    started = time.monotonic()
    try:
        answer = api.client.get("/readyz")
        # Far below the probe's 60 s: the answer did not wait for it (a margin for loaded machines).
        assert time.monotonic() - started < 20
    finally:
        release.set()
    assert answer.status_code == 503 and "no answer within" in answer.json()["checks"]["cluster"]["detail"]


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_per_app_and_report_what_the_run_service_records(api: Api) -> None:
    metrics = metrics_of(api.context.extras)
    assert metrics is metrics_of(api.context.extras), "one Metrics per context"
    metrics.run_finished("healed")
    metrics.run_finished("healed")
    metrics.run_finished("escalated")
    metrics.remediation("patch_resources", "ok")
    metrics.observe_time_to_detect(0.3)
    metrics.observe_time_to_diagnose(2.0)
    metrics.observe_time_to_recover(45.0)
    metrics.llm_call("openai", 120, 30)
    metrics.llm_call("openai", 80, 10)
    metrics.breaker_state("shop/web", "half_open")
    depth = [3]
    metrics.set_queue_depth_source(lambda: depth[0])

    answer = api.client.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    assert samples[("paramedic_runs_finished_total", (("outcome", "healed"),))] == 2
    assert samples[("paramedic_runs_finished_total", (("outcome", "escalated"),))] == 1
    assert samples[("paramedic_remediations_total", (("action", "patch_resources"), ("result", "ok")))] == 1
    assert samples[("paramedic_time_to_detect_seconds_count", ())] == 1
    assert samples[("paramedic_time_to_detect_seconds_bucket", (("le", "0.5"),))] == 1
    assert samples[("paramedic_time_to_detect_seconds_bucket", (("le", "0.25"),))] == 0
    assert samples[("paramedic_time_to_recover_seconds_sum", ())] == 45.0
    assert samples[("paramedic_time_to_diagnose_seconds_count", ())] == 1
    assert samples[("paramedic_llm_calls_total", (("provider", "openai"),))] == 2
    assert samples[("paramedic_llm_tokens_total", (("direction", "in"), ("provider", "openai")))] == 200
    assert samples[("paramedic_llm_tokens_total", (("direction", "out"), ("provider", "openai")))] == 40
    state = (("key", "shop/web"), ("paramedic_breaker_state", "half_open"))
    assert samples[("paramedic_breaker_state", state)] == 1
    assert (
        samples[("paramedic_breaker_state", (("key", "shop/web"), ("paramedic_breaker_state", "open")))] == 0
    )
    assert samples[("paramedic_queue_depth", ())] == 3
    depth[0] = 9
    assert _samples(api.client.get("/metrics").text)[("paramedic_queue_depth", ())] == 9, "read at scrape"


def test_two_metrics_never_share_counters_and_bad_values_are_refused() -> None:
    one, two = Metrics(), Metrics()
    one.run_finished("healed")
    assert "paramedic_runs_finished_total" in one.render().decode()
    assert 'outcome="healed"' not in two.render().decode()
    with pytest.raises(ValueError, match="non-negative"):
        one.observe_time_to_recover(-1)
    with pytest.raises(ValueError, match="non-negative"):
        one.observe_time_to_detect(float("nan"))
    with pytest.raises(ValueError):
        one.breaker_state("k", "melted")
