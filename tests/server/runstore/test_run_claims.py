"""Run claims across replicas: one owner at a time, takeover only from a silent owner, fencing by epoch."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from agent.domain import WorkloadRef
from server.runstore import NewRun, RunStatus, RunStore, UnknownRunError, open_run_store
from server.runstore.claim_table import Claim

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TTL = timedelta(seconds=30)


def _open(store: RunStore, run_id: str, status: RunStatus = RunStatus.QUEUED) -> None:
    store.create_run(
        NewRun(id=run_id, fingerprint=f"fp-{run_id}", target=WorkloadRef(namespace="shop", name=run_id),
               mode="auto", provider="rules", status=status, created_at=T0)
    )  # fmt: skip


def _claim(store: RunStore, run_id: str, owner: str, now: datetime) -> Claim | None:
    return store.claim_run(run_id, owner, now, now - TTL)


def test_a_live_owner_keeps_its_run(store: RunStore) -> None:
    _open(store, "r1")
    first = _claim(store, "r1", "a", T0)
    assert first is not None and (first.owner, first.epoch) == ("a", 1)
    assert _claim(store, "r1", "b", T0 + timedelta(seconds=5)) is None
    again = _claim(store, "r1", "a", T0 + timedelta(seconds=6))
    assert again is not None and again.epoch == 1  # re-claiming one's own run is not a takeover


def test_a_silent_owner_is_taken_over_and_fenced_out(store: RunStore) -> None:
    _open(store, "r1")
    assert _claim(store, "r1", "a", T0) is not None
    later = T0 + TTL + timedelta(seconds=1)
    taken = _claim(store, "r1", "b", later)
    assert taken is not None and (taken.owner, taken.epoch) == ("b", 2)
    assert not store.holds_claim("r1", "a", 1)  # the old owner, waking up, must not act
    assert store.holds_claim("r1", "b", 2)
    assert _claim(store, "r1", "a", later) is None


def test_heartbeats_keep_claims_alive(store: RunStore) -> None:
    for run_id in ("r1", "r2"):
        _open(store, run_id)
        assert _claim(store, run_id, "a", T0) is not None
    assert store.heartbeat("a", T0 + TTL) == 2
    assert _claim(store, "r1", "b", T0 + TTL + timedelta(seconds=1)) is None


def test_orphaned_runs_are_active_runs_without_a_live_owner(store: RunStore) -> None:
    _open(store, "never-claimed")
    _open(store, "live")
    _open(store, "silent")
    _open(store, "done", status=RunStatus.HEALED)
    _claim(store, "live", "a", T0 + TTL)
    _claim(store, "silent", "b", T0)
    orphans = store.orphaned_runs(T0 + timedelta(seconds=1))
    assert [r.id for r in orphans] == ["never-claimed", "silent"]


def test_answers_wait_for_the_owner(store: RunStore) -> None:
    _open(store, "r1", status=RunStatus.WAITING_APPROVAL)
    _claim(store, "r1", "a", T0)
    store.post_answer("r1", {"approved": True, "by": "ana"}, T0)
    assert store.take_answers("b") == []
    assert store.take_answers("a") == [("r1", {"approved": True, "by": "ana"})]
    assert store.take_answers("a") == []  # taken once
    with pytest.raises(UnknownRunError):
        store.post_answer("nope", {}, T0)


def test_released_runs_can_be_claimed_at_once(store: RunStore) -> None:
    _open(store, "r1")
    _claim(store, "r1", "a", T0)
    assert store.release_claim("r1", "a")
    assert not store.release_claim("r1", "a")
    assert _claim(store, "r1", "b", T0) is not None


def test_racing_replicas_never_both_win(storage_url: str) -> None:
    with open_run_store(storage_url) as setup:
        for i in range(20):
            _open(setup, f"r{i}")
    stores = [open_run_store(storage_url) for _ in range(2)]
    wins: dict[str, list[str]] = {"a": [], "b": []}
    try:

        def race(owner: str, store: RunStore) -> None:
            for i in range(20):
                if _claim(store, f"r{i}", owner, T0) is not None:
                    wins[owner].append(f"r{i}")

        threads = [threading.Thread(target=race, args=(o, s)) for o, s in zip("ab", stores, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for store in stores:
            store.close()
    assert sorted(wins["a"] + wins["b"]) == sorted(f"r{i}" for i in range(20))
    assert not set(wins["a"]) & set(wins["b"])
