"""The run store under concurrency, on SQLite and PostgreSQL: threads and processes appending at once,
and waiters woken by new events (same process, other processes, asyncio)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from multiprocessing import Pipe

import pytest

from agent import trace
from agent.domain import WorkloadRef
from server.runstore import NewRun, RunStore, UnknownRunError, open_run_store
from server.runstore.schema import SCHEMA_VERSION
from tests.forked import Child
from tests.server.runstore.children import append_notes, ready_then_append

WEB = WorkloadRef(namespace="shop", name="web-api")
# Waiters must be woken by notifications, not by polling: make polling too slow to matter.
NO_POLL = 120.0
TIMEOUT = 20.0


@pytest.fixture
def store(storage_url: str) -> Iterator[RunStore]:
    with open_run_store(storage_url, poll_interval=NO_POLL) as opened:
        for run_id in ("a", "b"):
            opened.create_run(
                NewRun(id=run_id, fingerprint=f"fp-{run_id}", target=WEB, mode="report", provider="rules")
            )
        yield opened


def _assert_gapless(store: RunStore, run_id: str, expected: int) -> None:
    events, after = [], 0
    while batch := store.events(run_id, after_seq=after, limit=1000):
        events += batch
        after = batch[-1].seq
    assert [e.seq for e in events] == list(range(1, expected + 1))
    assert len({e.id for e in events}) == expected
    ids = [e.id for e in events]
    assert ids == sorted(ids), "global ids follow each run's order"


def test_threads_appending_at_once_get_unique_gapless_sequences(store: RunStore) -> None:
    per_thread, threads = 30, 6
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(per_thread):
                run_id = "a" if (worker + i) % 3 else "b"
                store.append_event(run_id, trace.note(run_id, f"w{worker}", f"{worker}-{i}"))
        except BaseException as exc:  # surfaced below; a thread's exception would otherwise vanish
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    total_a = sum(1 for w in range(threads) for i in range(per_thread) if (w + i) % 3)
    _assert_gapless(store, "a", total_a)
    _assert_gapless(store, "b", threads * per_thread - total_a)
    assert len(store.all_events(limit=1000)) == threads * per_thread
    summaries = {e.summary for e in store.all_events(limit=1000)}
    assert summaries == {f"{w}-{i}" for w in range(threads) for i in range(per_thread)}, "nothing lost"


@pytest.mark.slow  # starts Python processes
def test_processes_appending_at_once_get_unique_gapless_sequences(store: RunStore, storage_url: str) -> None:
    count = 25
    children = [Child(append_notes, storage_url, "a", count, f"p{n}") for n in range(3)]
    for child in children:
        code, err = child.join()
        assert code == 0, err
    _assert_gapless(store, "a", 3 * count)
    assert {e.summary for e in store.events("a", limit=1000)} == {
        f"p{n}-{i}" for n in range(3) for i in range(count)
    }


def _append_later(store: RunStore, run_id: str, delay: float = 0.2) -> threading.Thread:
    def later() -> None:
        time.sleep(delay)
        store.append_event(run_id, trace.note(run_id, None, "news"))

    thread = threading.Thread(target=later)
    thread.start()
    return thread


def test_a_waiter_is_woken_by_an_append_in_this_process(store: RunStore) -> None:
    store.append_event("a", trace.note("a", None, "old"))
    assert store.wait_for_events(run_id="a", after=0, timeout=0.01), "an event after seq 0 exists already"

    writer = _append_later(store, "a")
    started = time.monotonic()
    assert store.wait_for_events(run_id="a", after=1, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT / 2, "woken by the append, not by the timeout"
    writer.join()
    assert [e.summary for e in store.events("a", after_seq=1)] == ["news"]


def test_a_waiter_on_one_run_ignores_other_runs_and_times_out(store: RunStore) -> None:
    writer = _append_later(store, "b", delay=0.05)
    assert not store.wait_for_events(run_id="a", after=0, timeout=0.5)
    writer.join()
    assert store.get_run("b").last_seq == 1


def test_a_global_waiter_sees_any_run(store: RunStore) -> None:
    first = store.append_event("a", trace.note("a", None, "first"))
    writer = _append_later(store, "b")
    started = time.monotonic()
    assert store.wait_for_events(after=first.id, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT / 2, "woken by the append, not by the timeout"
    writer.join()
    assert [e.run_id for e in store.all_events(after_id=first.id)] == ["b"]


def test_waiting_on_an_unknown_run_is_an_error(store: RunStore) -> None:
    with pytest.raises(UnknownRunError):
        store.wait_for_events(run_id="ghost", timeout=0.1)


def test_an_asyncio_waiter_is_woken_while_the_loop_keeps_running(store: RunStore) -> None:
    async def scenario() -> tuple[bool, int, bool]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        background = asyncio.create_task(ticker())
        writer = _append_later(store, "a", delay=0.3)
        woke = await store.wait_for_events_async(run_id="a", after=0, timeout=TIMEOUT)
        background.cancel()
        await asyncio.to_thread(writer.join)
        quiet = await store.wait_for_events_async(run_id="b", after=0, timeout=0.2)
        return woke, ticks, quiet

    started = time.monotonic()
    woke, ticks, quiet = asyncio.run(scenario())
    assert woke and time.monotonic() - started < TIMEOUT / 2
    assert ticks > 3, "the event loop was not blocked while waiting"
    assert not quiet


@pytest.mark.slow  # starts Python processes
def test_a_waiter_is_woken_by_an_append_in_another_process(storage_url: str, store: RunStore) -> None:
    # SQLite cannot notify across processes: there the waiter's short poll is what wakes it.
    waiter = store if store.kind == "postgres" else open_run_store(storage_url, poll_interval=0.1)
    try:
        # The child says it is ready; only then does the clock start, so a busy machine's slow
        # process start-up is not mistaken for a waiter that was not woken.
        go, child_end = Pipe()
        child = Child(ready_then_append, storage_url, child_end)
        child_end.close()
        assert go.poll(120) and go.recv() == "ready", child.join(0)
        go.send("go")
        started = time.monotonic()
        assert waiter.wait_for_events(run_id="b", after=0, timeout=TIMEOUT)
        assert time.monotonic() - started < TIMEOUT / 2
        code, err = child.join()
        assert code == 0, err
        assert [e.summary for e in waiter.events("b")] == ["from elsewhere"]
    finally:
        if waiter is not store:
            waiter.close()


def test_replicas_opening_a_new_database_at_once_migrate_it_exactly_once(storage_url: str) -> None:
    opened: list[RunStore] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def open_one() -> None:
        try:
            store = open_run_store(storage_url)
            with lock:
                opened.append(store)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == [] and len(opened) == 4
        with opened[0]._db.read() as tx:
            versions = tx.all("SELECT version FROM schema_version ORDER BY version")
        assert versions == [{"version": v} for v in range(1, SCHEMA_VERSION + 1)]
    finally:
        for store in opened:
            store.close()
