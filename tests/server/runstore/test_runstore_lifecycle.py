"""The run store's incident lifecycle and sighting folds (schema version 2), on SQLite and PostgreSQL:
resolve and reopen an incident, count sightings folded into a run, an ended run's cooldown window,
the waiting_merge status as an active one, and a version 1 database upgraded with its data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.runstore import (
    ConflictError,
    IncidentStatus,
    RunStatus,
    RunStore,
    UnknownIncidentError,
    UnknownRunError,
    open_run_store,
    schema,
)
from tests.server.runstore.records import T0, new_incident, new_run


def test_an_incident_is_resolved_then_reopened_by_a_new_sighting(store: RunStore) -> None:
    opened = store.record_incident(new_incident("inc-1"), seen_at=T0)
    resolved = store.resolve_incident(opened.id, T0 + timedelta(minutes=3))
    assert resolved.status is IncidentStatus.RESOLVED and resolved.resolved_at == T0 + timedelta(minutes=3)
    again = store.resolve_incident(opened.id, T0 + timedelta(minutes=9))
    assert again.resolved_at == T0 + timedelta(minutes=3), "resolved once; the first time stays"
    attached = store.attach_sighting(opened.id, T0 + timedelta(minutes=4))
    assert attached.status is IncidentStatus.RESOLVED and attached.count == 2
    assert attached.last_seen == T0 + timedelta(minutes=4)
    reopened = store.record_incident(new_incident("inc-2"), seen_at=T0 + timedelta(hours=1))
    assert (reopened.id, reopened.status, reopened.count, reopened.reopened) == (
        "inc-1", IncidentStatus.OPEN, 3, 1,
    )  # fmt: skip
    assert reopened.resolved_at is None
    assert [i.id for i in store.list_incidents().items] == ["inc-1"]
    with pytest.raises(UnknownIncidentError):
        store.resolve_incident("nope", T0)
    with pytest.raises(UnknownIncidentError):
        store.attach_sighting("nope", T0)


def test_sightings_fold_into_a_run_and_attach_to_it_during_its_window(store: RunStore) -> None:
    store.record_incident(new_incident("inc-1"))
    run = store.create_run(new_run("r1", incident_id="inc-1"))
    assert run.folded == 0 and run.last_folded_at is None and run.attach_until is None
    store.fold_into_run("r1", T0 + timedelta(seconds=5))
    folded = store.fold_into_run("r1", T0 + timedelta(seconds=2))  # out of order: the latest stays
    assert folded.folded == 2 and folded.last_folded_at == T0 + timedelta(seconds=5)
    assert store.attach_window_run("fp-web", T0) is None, "no window while it runs"
    store.update_run("r1", status=RunStatus.HEALED)
    window = store.open_attach_window("r1", T0 + timedelta(minutes=5))
    assert window.attach_until == T0 + timedelta(minutes=5) and window.status is RunStatus.HEALED
    found = store.attach_window_run("fp-web", T0 + timedelta(minutes=4))
    assert found is not None and found.id == "r1"
    assert store.attach_window_run("fp-web", T0 + timedelta(minutes=5)) is None, "the window has closed"
    assert store.attach_window_run("fp-other", T0) is None
    with pytest.raises(UnknownRunError):
        store.fold_into_run("nope", T0)
    with pytest.raises(UnknownRunError):
        store.open_attach_window("nope", T0)


def test_a_run_waiting_for_a_merge_is_active(store: RunStore) -> None:
    store.create_run(new_run("r1", status=RunStatus.RUNNING))
    store.update_run("r1", status=RunStatus.WAITING_MERGE)
    assert store.active_run("fp-web") is not None
    with pytest.raises(ConflictError):
        store.create_run(new_run("r2"))
    assert store.open_run(new_run("r3")) == (store.get_run("r1"), False)
    ended = store.update_run("r1", status=RunStatus.RECOVERED)
    assert ended.finished_at is not None and not ended.status.active


def test_a_version_1_database_is_upgraded_with_its_data(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with open_run_store(storage_url) as old, old._db.write() as tx:
        assert old.schema_version == 1
        tx.execute(
            "INSERT INTO runs (id, fingerprint, namespace, kind, name, mode, provider, status, created_at,"
            " updated_at, actions) VALUES ('old', 'fp-web', 'shop', 'Deployment', 'web-api', 'report',"
            " 'rules', 'waiting_approval', ?, ?, ?)",
            (old._db.ts_param(T0), old._db.ts_param(T0), old._db.json_param([])),
        )
    monkeypatch.undo()
    with open_run_store(storage_url) as upgraded:
        assert upgraded.schema_version == schema.SCHEMA_VERSION == 5
        run = upgraded.get_run("old")
        assert run.status is RunStatus.WAITING_APPROVAL and run.folded == 0 and run.attach_until is None
        upgraded.update_run("old", status=RunStatus.WAITING_MERGE)
        with pytest.raises(ConflictError):
            upgraded.create_run(new_run("second"))
