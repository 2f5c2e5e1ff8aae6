"""The one rule every sighting follows in `RunService.submit` (alerts, the watcher, manual triggers):
fold into the active run, attach to a run in its cooldown, else record and open a run; the incident
is resolved when its run heals and reopened when it fails again after the cooldown. Includes the
alert storm of issue #15: 150 posts of one alert in 7 s open one run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from agent.config import Settings
from agent.domain import Trigger
from agent.trace import TraceEventType
from server.app import create_app
from server.context import ServerContext
from server.run_service import RunService, RunServiceOptions
from server.runstore import IncidentStatus, RunStatus, RunStore
from tests.agent import evidence_samples as samples
from tests.clocks import ManualClock
from tests.server.test_run_service import _app

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COOLDOWN = 300.0


def service(store: RunStore, clock: Any = None, *, ask: bool = False) -> RunService:
    options = RunServiceOptions(mode="autonomous", provider="rules", workers=2, cooldown_seconds=COOLDOWN)
    return RunService(_app(ask=ask), store, options, **({"clock": clock} if clock else {}))


def test_sightings_fold_attach_then_open_a_new_run_for_the_reopened_incident(store: RunStore) -> None:
    clock = ManualClock(T0)
    runs = service(store, clock, ask=True)
    first, created = runs.submit(samples.incident())
    assert created and runs.wait_idle(10)
    assert store.get_run(first).status is RunStatus.WAITING_APPROVAL

    # 1. while the run waits: folded, counted, one note a minute
    for _ in range(5):
        clock.advance(5)
        assert runs.submit(samples.incident()) == (first, False)
    waiting = store.get_run(first)
    assert waiting.folded == 5 and waiting.last_folded_at == T0 + timedelta(seconds=25)
    notes = [e for e in store.events(first) if e.type is TraceEventType.NOTE and e.node == "intake"]
    assert len(notes) == 1 and notes[0].summary == "seen again; folded into this run"
    incident = store.get_incident(str(waiting.incident_id))
    assert incident.count == 6 and incident.status is IncidentStatus.OPEN

    # the run heals: its incident is resolved and its cooldown window opens
    assert runs.answer(first, {"approved": True, "by": "alice"}) == "running" and runs.wait_idle(10)
    healed = store.get_run(first)
    assert healed.status is RunStatus.HEALED
    assert healed.attach_until == clock.now + timedelta(seconds=COOLDOWN)
    resolved = store.get_incident(incident.id)
    assert resolved.status is IncidentStatus.RESOLVED and resolved.resolved_at == clock.now

    # 2. within the cooldown: attached to the ended run; the incident stays resolved
    clock.advance(COOLDOWN - 1)
    assert runs.submit(samples.incident()) == (first, False)
    assert runs.fold_repeat(samples.incident()) == first
    assert store.get_run(first).folded == 7
    assert store.get_incident(incident.id).status is IncidentStatus.RESOLVED

    # 3. after it: the same incident reopens, with a new run
    clock.advance(1)
    assert runs.fold_repeat(samples.incident()) is None, "a repeat never opens a run"
    second, created = runs.submit(samples.incident())
    assert created and second != first and runs.wait_idle(10)
    reopened = store.get_incident(incident.id)
    assert reopened.reopened == 1 and store.get_run(second).incident_id == incident.id
    assert [r.id for r in store.list_runs(incident_id=incident.id).items] == [second, first]
    runs.close()


def test_other_symptoms_of_a_busy_workload_are_one_incident_noted_once_each(store: RunStore) -> None:
    clock = ManualClock(T0)
    runs = service(store, clock, ask=True)
    run_id, _ = runs.submit(samples.incident())
    assert runs.wait_idle(10)
    alert = samples.incident("alert:KubePodCrashLooping").model_copy(
        update={"id": "inc-alert", "trigger": Trigger.ALERT}
    )
    for reason in ("OOMKilled", "NotReady", "OOMKilled", "NotReady"):
        clock.advance(30)
        assert runs.submit(samples.incident(reason)) == (run_id, False)
    assert runs.submit(alert) == (run_id, False)
    notes = [e.summary for e in store.events(run_id) if e.node == "intake"]
    assert notes == [
        "also reported by watcher as 'OOMKilled'; folded into this run",
        "also reported by watcher as 'NotReady'; folded into this run",
        "also reported by alert as 'alert:KubePodCrashLooping'; folded into this run",
    ], "every new symptom once; its repeats count without a note"
    [incident] = store.list_incidents().items
    assert incident.count == 6 and store.get_run(run_id).folded == 5
    assert runs.answer(run_id, {"approved": True, "by": "alice"}) == "running" and runs.wait_idle(10)
    assert store.get_incident(incident.id).status is IncidentStatus.RESOLVED
    # another symptom of the workload in its cooldown attaches too; after it, a new run
    clock.advance(60)
    assert runs.submit(samples.incident("FrequentRestarts")) == (run_id, False)
    clock.advance(COOLDOWN)
    again = samples.incident("FrequentRestarts").model_copy(update={"id": "inc-2"})
    assert runs.submit(again)[1] is True, "a new failure: its own incident, a new run"
    runs.close()


def test_an_alert_storm_of_150_posts_in_7_seconds_opens_one_run(store: RunStore, tmp_path: Path) -> None:
    runs = service(store)  # the wall clock: the run ends during the storm, the rest attach to it
    settings = Settings(data_dir=tmp_path, server={"allowed_hosts": ["testserver"]})
    app = create_app(ServerContext(store=store, settings=settings, runs=runs))
    payload = {
        "version": "4",
        "groupKey": '{}:{alertname="KubePodCrashLooping"}',
        "status": "firing",
        "receiver": "paramedic",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "deployment": "web-api"},
                "annotations": {"summary": "web-api is crash looping"},
                "fingerprint": "a1b2c3",
            }
        ],
    }
    results: list[str] = []
    started = time.monotonic()
    with TestClient(app) as client:
        for i in range(150):
            answer = client.post("/api/v1/alerts/alertmanager", json=payload)
            assert answer.status_code == 202, answer.text
            results.append(answer.json()["results"][0]["result"])
            time.sleep(max(0.0, started + 7 * (i + 1) / 150 - time.monotonic()))  # spread over 7 s
    assert runs.wait_idle(10)
    [run] = store.list_runs().items
    assert results[0] == "opened" and set(results[1:]) <= {"folded", "attached"}
    assert "attached" in results, "the run ended during the storm; later posts attach to it"
    assert run.status is RunStatus.HEALED and run.folded == 149
    [incident] = store.list_incidents().items
    assert incident.count == 150 and run.incident_id == incident.id
    runs.close()
