"""The run store on SQLite and PostgreSQL: incidents, runs, trace events, blobs, audit, errors, schema."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent import trace
from agent.domain import WorkloadRef
from agent.trace import BLOB_KEY, TraceEvent, TraceEventType
from server.runstore import (
    AuditEntry,
    ConflictError,
    IncidentStatus,
    InvalidInputError,
    RunStatus,
    RunStore,
    SchemaVersionError,
    UnknownBlobError,
    UnknownIncidentError,
    UnknownRunError,
    open_run_store,
)
from server.runstore.schema import SCHEMA_VERSION
from tests.server.runstore.records import T0, WEB, new_incident, new_run
from tools.result import ToolCallEvent, ToolStatus


def test_the_store_names_its_backend(store: RunStore, storage_url: str) -> None:
    assert store.kind == ("sqlite" if storage_url.startswith("sqlite") else "postgres")


# --- schema ---------------------------------------------------------------------------------------


def test_reopening_keeps_data_and_does_not_migrate_twice(storage_url: str) -> None:
    with open_run_store(storage_url) as first:
        first.create_run(new_run("r1"))
        first.append_event("r1", trace.note("r1", None, "kept"))
    with open_run_store(storage_url) as second:
        assert second.schema_version == SCHEMA_VERSION == 5
        assert [e.summary for e in second.events("r1")] == ["kept"]


def test_a_schema_newer_than_the_code_is_refused(storage_url: str) -> None:
    # Simulate a newer Paramedic having migrated the database.
    with open_run_store(storage_url) as first, first._db.write() as tx:
        tx.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", (99, first._db.ts_param(T0))
        )
    with pytest.raises(SchemaVersionError, match="version 99"):
        open_run_store(storage_url)


@pytest.mark.parametrize("url", ["mysql://db", "sqlite:///", "sqlite://relative.db", ""])
def test_unsupported_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(InvalidInputError, match="storage URL"):
        open_run_store(url)


def test_the_sqlite_file_is_created_under_missing_directories(tmp_path) -> None:
    target = tmp_path / "a" / "b" / "paramedic.db"
    with open_run_store(f"sqlite:///{target}") as opened:
        opened.create_run(new_run("r1"))
    assert target.exists()


# --- incidents --------------------------------------------------------------------------------------


def test_sightings_of_one_fingerprint_fold_into_the_open_incident(store: RunStore) -> None:
    first = store.record_incident(new_incident("inc-1"), seen_at=T0)
    again = store.record_incident(new_incident("inc-2"), seen_at=T0 + timedelta(minutes=5))
    assert again.id == "inc-1" and again.count == 2
    assert again.first_seen == T0 and again.last_seen == T0 + timedelta(minutes=5)
    assert first.status is IncidentStatus.OPEN and first.labels == {"team": "shop"}
    assert again.trigger == "watcher" and again.reason == "CrashLoopBackOff" and again.target == WEB

    store.set_incident_status("inc-1", IncidentStatus.RESOLVED)
    reopened = store.record_incident(new_incident("inc-3"), seen_at=T0 + timedelta(hours=1))
    assert reopened.id == "inc-1" and reopened.count == 3, "the same incident, open again"
    assert reopened.status is IncidentStatus.OPEN and reopened.reopened == 1
    other = store.record_incident(new_incident("inc-4", fingerprint="fp-other"))
    assert other.id == "inc-4"


def test_list_and_get_incidents(store: RunStore) -> None:
    for i in range(5):
        store.record_incident(new_incident(f"inc-{i}", fingerprint=f"fp-{i}", at=T0 + timedelta(minutes=i)))
    store.set_incident_status("inc-1", "escalated")
    page = store.list_incidents(limit=2)
    assert [i.id for i in page.items] == ["inc-4", "inc-3"] and page.next_cursor
    rest = store.list_incidents(limit=10, cursor=page.next_cursor)
    assert [i.id for i in rest.items] == ["inc-2", "inc-1", "inc-0"] and rest.next_cursor is None
    assert [i.id for i in store.list_incidents(status="escalated").items] == ["inc-1"]
    assert store.list_incidents(namespace="elsewhere").items == []
    assert store.get_incident("inc-2").fingerprint == "fp-2"
    with pytest.raises(UnknownIncidentError, match="nope"):
        store.get_incident("nope")
    with pytest.raises(UnknownIncidentError):
        store.set_incident_status("nope", "resolved")
    with pytest.raises(InvalidInputError, match="incident status"):
        store.set_incident_status("inc-2", "closed-ish")


# --- runs -----------------------------------------------------------------------------------------------


def test_create_get_and_update_a_run_through_its_lifecycle(store: RunStore) -> None:
    store.record_incident(new_incident("inc-1"))
    created = store.create_run(new_run("r1", incident_id="inc-1"))
    assert created.status is RunStatus.QUEUED and created.created_at == T0 and created.finished_at is None
    assert created.actions == [] and created.last_seq == 0 and created.incident_id == "inc-1"

    store.update_run("r1", status=RunStatus.RUNNING)
    diagnosis = {"category": "oom", "confidence": 0.9, "explanation": "ünïcode ✓"}
    store.update_run("r1", diagnosis=diagnosis, decision={"route": "act", "rationale": "sure"})
    store.update_run("r1", actions=[{"id": "a1", "action": "patch"}], verification={"healthy": True})
    done = store.update_run("r1", status="healed")
    assert done.status is RunStatus.HEALED and done.finished_at is not None
    assert done.diagnosis == diagnosis and done.decision == {"route": "act", "rationale": "sure"}
    assert done.actions == [{"id": "a1", "action": "patch"}] and done.verification == {"healthy": True}
    assert done.updated_at >= done.created_at
    assert store.get_run("r1") == done


def test_a_finished_run_never_changes_status_again(store: RunStore) -> None:
    store.create_run(new_run("r1"))
    store.update_run("r1", status="failed", error="reasoner unavailable")
    with pytest.raises(ConflictError, match="failed"):
        store.update_run("r1", status="running")
    assert store.update_run("r1", error="annotated later").status is RunStatus.FAILED


def test_run_errors_are_clear(store: RunStore) -> None:
    store.create_run(new_run("r1"))
    with pytest.raises(UnknownRunError, match="'ghost'"):
        store.get_run("ghost")
    with pytest.raises(UnknownRunError):
        store.update_run("ghost", status="running")
    with pytest.raises(InvalidInputError, match="unknown run status"):
        store.update_run("r1", status="sleeping")
    with pytest.raises(InvalidInputError, match="diagnosis"):
        store.update_run("r1", diagnosis={"confidence": float("inf")})
    with pytest.raises(InvalidInputError, match="decision"):
        store.update_run("r1", decision={"at": object()})
    with pytest.raises(InvalidInputError, match="actions must be a list"):
        store.update_run("r1", actions={"not": "a list"})  # type: ignore[arg-type]
    with pytest.raises(ConflictError, match="already exists"):
        store.create_run(new_run("r1", fingerprint="fp-else"))
    with pytest.raises(UnknownIncidentError):
        store.create_run(new_run("r2", fingerprint="fp-else", incident_id="missing"))
    assert store.get_run("r1").status is RunStatus.QUEUED, "failed writes change nothing"


def test_storm_folding_finds_the_active_run_of_a_fingerprint(store: RunStore) -> None:
    _, created = store.open_run(new_run("r1"))
    assert created
    again, created = store.open_run(new_run("r2"))
    assert not created and again.id == "r1"
    with pytest.raises(ConflictError, match="active run 'r1'"):
        store.create_run(new_run("r3"))
    assert store.active_run("fp-web").id == "r1"

    store.update_run("r1", status="waiting_approval")
    assert store.active_run("fp-web").id == "r1"
    store.update_run("r1", status="rejected")
    assert store.active_run("fp-web") is None
    follow_up, created = store.open_run(new_run("r4", at=T0 + timedelta(minutes=1)))
    assert created and follow_up.id == "r4"
    assert store.active_run("fp-nothing") is None


def test_list_runs_filters_and_pages_newest_first(store: RunStore) -> None:
    other = WorkloadRef(namespace="pay", name="ledger")
    for i in range(7):
        target = WEB if i % 2 == 0 else other
        store.create_run(new_run(f"r{i}", fingerprint=f"fp-{i}", target=target, at=T0 + timedelta(minutes=i)))
    store.update_run("r6", status="running")
    store.update_run("r4", status="healed")
    store.create_run(new_run("r-tie", fingerprint="fp-tie", at=T0 + timedelta(minutes=3)))  # same time as r3

    seen, cursor = [], None
    while True:
        page = store.list_runs(limit=3, cursor=cursor)
        seen += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == ["r6", "r5", "r4", "r3", "r-tie", "r2", "r1", "r0"]

    assert [r.id for r in store.list_runs(status="running").items] == ["r6"]
    assert [r.id for r in store.list_runs(status=["healed", RunStatus.RUNNING]).items] == ["r6", "r4"]
    assert [r.id for r in store.list_runs(namespace="pay").items] == ["r5", "r3", "r1"]
    assert [r.id for r in store.list_runs(namespace="shop", workload="web-api", status="queued").items] == [
        "r-tie",
        "r2",
        "r0",
    ]
    assert [r.id for r in store.list_runs(fingerprint="fp-2").items] == ["r2"]
    assert store.list_runs(workload="nothing").items == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 100_000}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"status": "zombie"}, "unknown run status"),
    ],
)
def test_list_runs_rejects_bad_arguments(store: RunStore, kwargs: dict, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        store.list_runs(**kwargs)


# --- trace events -------------------------------------------------------------------------------------


def test_events_get_gapless_sequence_numbers_per_run_and_global_ids(store: RunStore) -> None:
    store.create_run(new_run("a", fingerprint="fa"))
    store.create_run(new_run("b", fingerprint="fb"))
    appended = [
        store.append_event("a", trace.node_start("a", "gather")),
        store.append_event("b", trace.node_start("b", "gather")),
        store.append_event("a", trace.node_end("a", "gather", summary="3 items")),
        store.append_event("a", trace.decision("a", "decide", route="ask", rationale="0.6 < 0.8")),
    ]
    assert [(e.run_id, e.seq) for e in appended] == [("a", 1), ("b", 1), ("a", 2), ("a", 3)]
    ids = [e.id for e in appended]
    assert ids == sorted(ids) and len(set(ids)) == 4

    assert store.events("a") == [e for e in appended if e.run_id == "a"]
    assert [e.seq for e in store.events("a", after_seq=1)] == [2, 3]
    assert [e.seq for e in store.events("a", after_seq=1, limit=1)] == [2]
    assert store.events("b", after_seq=1) == []
    assert store.all_events() == appended
    assert store.all_events(after_id=ids[1]) == appended[2:]
    assert store.get_run("a").last_seq == 3


def test_events_keep_everything_they_were_given(store: RunStore) -> None:
    store.create_run(new_run("r"))
    call = ToolCallEvent(
        tool="k8s.events",
        arguments={"namespace": "shop", "limit": 50},
        status=ToolStatus.OK,
        duration_ms=3.25,
        summary="12 events",
        started_at=T0,
    )
    sent = [
        trace.tool_call("r", call, node="gather"),
        trace.prompt(
            "r", "diagnose", [{"role": "system", "content": "rules"}, {"role": "user", "content": "ü"}]
        ),
        trace.note("r", "n", "nul\x00 inside", {"log": "a\x00b", "nested": {"x": [1, 2.5, None, True]}}),
    ]
    stored = [store.append_event("r", event) for event in sent]
    read = store.events("r")
    assert read == stored
    for original, back in zip(sent, read, strict=True):
        assert back.type == original.type and back.node == original.node and back.ts == original.ts
        assert back.payload == original.payload and back.summary == original.summary
    assert read[0].ts == T0 and read[0].type is TraceEventType.TOOL_CALL


def test_large_payload_values_are_stored_once_as_blobs(store: RunStore) -> None:
    store.create_run(new_run("r"))
    logs = "OOMKilled: container app exceeded 64Mi\n" * 400
    first = store.append_event("r", trace.note("r", "gather", "logs", {"logs": logs}))
    second = store.append_event("r", trace.note("r", "diagnose", "same logs", {"again": logs, "tail": "ok"}))
    sha = first.payload["logs"][BLOB_KEY]
    assert second.payload["again"] == {BLOB_KEY: sha} and second.payload["tail"] == "ok"
    assert store.get_blob(sha).content == logs.encode()
    with store._db.read() as tx:
        assert tx.one("SELECT COUNT(*) AS n FROM blobs")["n"] == 1

    read = store.events("r")
    assert read[0].blobs[0].path == "/logs" and read[0].blobs[0].size == len(logs.encode())
    assert store.inline_event(read[1]).payload == {"again": logs, "tail": "ok"}
    with pytest.raises(UnknownBlobError):
        store.get_blob("0" * 64)


def test_bad_events_are_refused_and_nothing_is_half_written(store: RunStore) -> None:
    store.create_run(new_run("r"))
    with pytest.raises(UnknownRunError):
        store.append_event("ghost", trace.note("ghost", None, "x"))
    with pytest.raises(InvalidInputError, match="belongs to run"):
        store.append_event("r", trace.note("other", None, "x"))
    numbered = store.append_event("r", trace.note("r", None, "first"))
    with pytest.raises(InvalidInputError, match="assigned by the run store"):
        store.append_event("r", numbered)
    smuggled = TraceEvent.model_construct(
        run_id="r",
        seq=None,
        id=None,
        ts=T0,
        type=TraceEventType.NOTE,
        node=None,
        summary="bad",
        payload={"x": float("nan")},
        blobs=[],
    )
    with pytest.raises(InvalidInputError, match="malformed"):
        store.append_event("r", smuggled)
    with pytest.raises(InvalidInputError, match="TraceEvent"):
        store.append_event("r", {"type": "note"})  # type: ignore[arg-type]
    with pytest.raises(UnknownRunError):
        store.events("ghost")
    with pytest.raises(InvalidInputError, match="limit"):
        store.events("r", limit=0)
    assert [e.seq for e in store.events("r")] == [1]
    assert store.append_event("r", trace.note("r", None, "second")).seq == 2, "no gap after refusals"


# --- audit ---------------------------------------------------------------------------------------------


def test_the_audit_log_records_who_what_why_diff_and_result(store: RunStore) -> None:
    store.create_run(new_run("r1", fingerprint="f1"))
    store.create_run(new_run("r2", fingerprint="f2"))
    entry = AuditEntry(
        who="alice",
        what="raise memory limit to 128Mi",
        why="OOMKilled x3",
        diff="-memory: 64Mi\n+memory: 128Mi",
        result="ok",
        action="patch",
        target="shop/deployment/web-api",
        details={"dry_run": {"ok": True}},
        ts=T0,
    )
    first = store.append_audit("r1", entry)
    store.append_audit("r2", entry.model_copy(update={"who": "paramedic", "result": "denied"}))
    third = store.append_audit("r1", entry.model_copy(update={"what": "restart", "diff": ""}))
    assert first.run_id == "r1" and first.who == "alice" and first.ts == T0
    assert first.details == {"dry_run": {"ok": True}} and first.diff.startswith("-memory")
    assert [a.what for a in store.audit_log(run_id="r1")] == ["raise memory limit to 128Mi", "restart"]
    assert [a.who for a in store.audit_log()] == ["alice", "paramedic", "alice"]
    assert store.audit_log(after_id=first.id, limit=1)[0].who == "paramedic"
    assert third.id > first.id
    with pytest.raises(UnknownRunError):
        store.append_audit("ghost", entry)


def test_the_run_store_and_the_checkpointer_share_one_database(storage_url: str) -> None:
    from langgraph.checkpoint.base import empty_checkpoint

    from graph.checkpointing import open_checkpointer, run_config

    with open_run_store(storage_url) as store, open_checkpointer(storage_url) as saver:
        store.create_run(new_run("r1"))
        config = run_config("r1", checkpoint_ns="")
        saver.put(config, empty_checkpoint(), {"source": "input", "step": -1}, {})
        store.append_event("r1", trace.note("r1", None, "side by side"))
        assert saver.get_tuple(run_config("r1")) is not None
        assert [e.summary for e in store.events("r1")] == ["side by side"]
