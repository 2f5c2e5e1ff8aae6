"""Circuit breakers in the run store, on SQLite and PostgreSQL: the graph's breaker over them, state
that survives a restart, atomic updates under threads and processes (replicas), and a store created
before the breakers table existed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from graph.breaker import BreakerPolicy, BreakerState, BreakerStatus, CircuitBreaker, record_event
from server.runstore import open_run_store, schema
from tests.clocks import ManualClock

REPO = Path(__file__).resolve().parents[2]
POLICY = BreakerPolicy(limit=3, window_seconds=100, cooldown_seconds=50)
COUNTING = BreakerPolicy(limit=10_000, window_seconds=1e9, cooldown_seconds=1)


def test_the_breaker_trips_and_recovers_over_the_run_store_and_survives_a_restart(storage_url: str) -> None:
    clock = ManualClock(1000.0)
    key = "shop/deployment/web"
    with open_run_store(storage_url) as store:
        breaker = CircuitBreaker(store.breakers, POLICY, clock)
        for _ in range(3):
            assert breaker.allows(key)
            breaker.record_event(key)
        assert breaker.view(key).status is BreakerStatus.OPEN and not breaker.allows(key)
        assert breaker.allows("shop/deployment/other")
    with open_run_store(storage_url) as replica:  # another process, later: the same state
        breaker = CircuitBreaker(replica.breakers, POLICY, clock)
        assert breaker.view(key).status is BreakerStatus.OPEN
        clock.now = 1050
        assert breaker.record_event(key).status is BreakerStatus.OPEN  # the half-open trial
        assert breaker.record_success(key).status is BreakerStatus.CLOSED
        assert replica.breakers.get("never-seen") == BreakerState()


def test_an_update_that_raises_changes_nothing(storage_url: str) -> None:
    with open_run_store(storage_url) as store:
        store.breakers.update("k", lambda s: record_event(s, POLICY, 1))

        def boom(_: BreakerState) -> BreakerState:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            store.breakers.update("k", boom)
        assert store.breakers.get("k") == BreakerState((1.0,))


def test_threads_on_two_replicas_lose_no_update(storage_url: str) -> None:
    replicas = [open_run_store(storage_url), open_run_store(storage_url)]
    errors: list[BaseException] = []

    def hammer(worker: int) -> None:
        store = replicas[worker % 2].breakers
        try:
            for i in range(20):
                store.update("shared", lambda s, t=worker * 1000 + i: record_event(s, COUNTING, float(t)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert errors == []
        assert len(replicas[0].breakers.get("shared").events) == 120
    finally:
        for replica in replicas:
            replica.close()


@pytest.mark.slow  # starts Python processes
def test_processes_sharing_the_store_lose_no_update(storage_url: str) -> None:
    code = textwrap.dedent(f"""
        import sys
        from graph.breaker import BreakerPolicy, record_event
        from server.runstore import open_run_store, schema
        policy = BreakerPolicy(limit=10_000, window_seconds=1e9, cooldown_seconds=1)
        worker = int(sys.argv[1])
        with open_run_store({storage_url!r}) as store:
            for i in range(15):
                store.breakers.update("shared", lambda s, t=worker * 1000 + i: record_event(s, policy, t))
    """)
    with open_run_store(storage_url):
        pass  # migrate once before the processes race
    procs = [subprocess.Popen([sys.executable, "-c", code, str(w)], cwd=REPO) for w in range(3)]
    assert [p.wait(120) for p in procs] == [0, 0, 0]
    with open_run_store(storage_url) as store:
        assert len(store.breakers.get("shared").events) == 45


def test_a_store_from_before_the_breakers_table_is_migrated(
    storage_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])  # a version 1 store
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with open_run_store(storage_url) as old:
        assert old.schema_version == 1
    monkeypatch.undo()
    with open_run_store(storage_url) as upgraded:
        assert upgraded.schema_version == schema.SCHEMA_VERSION
        upgraded.breakers.update("k", lambda s: record_event(s, POLICY, 7))
        assert upgraded.breakers.get("k").events == (7.0,)
