"""A real StateGraph checkpoints, crashes and resumes from its last checkpoint, on SQLite and PostgreSQL.

The graph is a -> b -> c (`tests.graph.checkpoint_children`); every node appends its name to a
journal file, so the journal shows exactly which nodes ran, across graph objects and across processes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.types import Command

from graph.checkpointing import (
    StorageUrlError,
    open_checkpointer,
    run_config,
    sqlite_path,
)
from tests.forked import Child
from tests.graph.checkpoint_children import build, crash_in_b


def _ran(journal: Path) -> list[str]:
    return journal.read_text().split() if journal.exists() else []


def test_an_exception_in_a_node_then_resume_skips_the_finished_node(storage_url: str, tmp_path: Path) -> None:
    journal, config = tmp_path / "journal", run_config("run-exc")
    with open_checkpointer(storage_url) as saver:
        graph = build(journal, "raise", saver)
        with pytest.raises(RuntimeError, match="b crashed"):
            graph.invoke({"steps": []}, config, durability="sync")
    del graph, saver  # the graph object and its checkpointer are gone

    with open_checkpointer(storage_url) as saver:
        state = build(journal, "ok", saver).invoke(None, config, durability="sync")
    assert state["steps"] == ["a", "b", "c"]
    assert _ran(journal) == ["a", "b", "b", "c"], "a ran once; b ran again; c once"


@pytest.mark.slow  # starts Python processes
def test_a_hard_process_crash_then_resume_in_another_process(storage_url: str, tmp_path: Path) -> None:
    journal, config = tmp_path / "journal", run_config("run-kill")
    code, err = Child(crash_in_b, storage_url, journal, "run-kill").join()
    assert code == 17, err
    assert _ran(journal) == ["a", "b"]

    with open_checkpointer(storage_url) as saver:
        state = build(journal, "ok", saver).invoke(None, config, durability="sync")
    assert state["steps"] == ["a", "b", "c"]
    assert _ran(journal) == ["a", "b", "b", "c"]


def test_an_interrupt_survives_dropping_the_graph_and_resumes_with_the_answer(
    storage_url: str, tmp_path: Path
) -> None:
    journal, config = tmp_path / "journal", run_config("run-ask")
    with open_checkpointer(storage_url) as saver:
        first = build(journal, "interrupt", saver).invoke({"steps": []}, config, durability="sync")
    assert first["__interrupt__"][0].value == {"question": "may b go on?"}

    with open_checkpointer(storage_url) as saver:
        graph = build(journal, "interrupt", saver)
        assert graph.get_state(config).next == ("b",)
        state = graph.invoke(Command(resume="yes"), config, durability="sync")
    assert state["answer"] == "yes" and state["steps"] == ["a", "b", "c"]
    assert _ran(journal) == ["a", "b", "b", "c"], "b re-runs from the top on resume; a does not"


def test_threads_are_runs_and_do_not_see_each_other(storage_url: str, tmp_path: Path) -> None:
    with open_checkpointer(storage_url) as saver:
        graph = build(tmp_path / "journal", "ok", saver)
        graph.invoke({"steps": ["from-1"]}, run_config("run-1"))
        graph.invoke({"steps": ["from-2"]}, run_config("run-2"))
        assert graph.get_state(run_config("run-1")).values["steps"] == ["from-1", "a", "b", "c"]
        assert graph.get_state(run_config("run-2")).values["steps"] == ["from-2", "a", "b", "c"]


def test_opening_twice_is_idempotent_and_keeps_checkpoints(storage_url: str, tmp_path: Path) -> None:
    with open_checkpointer(storage_url) as saver:
        build(tmp_path / "journal", "ok", saver).invoke({"steps": []}, run_config("kept"))
    with open_checkpointer(storage_url) as saver:
        assert saver.get_tuple(run_config("kept")) is not None


@pytest.mark.parametrize("url", ["mysql://x/y", "sqlite://", "", "postgresq://x"])
def test_unsupported_urls_are_clear_errors(url: str) -> None:
    with pytest.raises(StorageUrlError, match="URL"), open_checkpointer(url):
        pass


def test_sqlite_paths() -> None:
    assert sqlite_path("sqlite:///rel/p.db") == "rel/p.db"
    assert sqlite_path("sqlite:////abs/p.db") == "/abs/p.db"
    assert sqlite_path("sqlite:///:memory:") == ":memory:"
    with pytest.raises(ValueError, match="empty"):
        run_config("")


@pytest.mark.integration
def test_a_replica_waiting_for_the_setup_lock_does_not_stall_an_index_built_concurrently(
    fresh_postgres_url: str,
) -> None:
    # Another replica holds the setup lock and builds an index CONCURRENTLY (as the savers'
    # migrations do), which waits for every older transaction of the database. A replica waiting
    # for the lock inside PostgreSQL would be one, and the two would wait on each other for good.
    import threading
    import time

    import psycopg

    from graph.checkpointing import _SETUP_LOCK_KEY

    with psycopg.connect(fresh_postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (_SETUP_LOCK_KEY,))
        opened = threading.Event()

        def second_replica() -> None:
            with open_checkpointer(fresh_postgres_url):
                opened.set()

        waiting = threading.Thread(target=second_replica, daemon=True)
        waiting.start()
        time.sleep(3)  # the second replica is at the lock by now
        with psycopg.connect(fresh_postgres_url, autocommit=True) as builder:
            builder.execute("SET statement_timeout = '20s'")  # the old wait hung here for good
            builder.execute("CREATE TABLE replica_probe (x int)")
            builder.execute("CREATE INDEX CONCURRENTLY replica_probe_x ON replica_probe (x)")
        assert not opened.is_set(), "the lock is still held: the second replica waits"
        holder.execute("SELECT pg_advisory_unlock(%s)", (_SETUP_LOCK_KEY,))
        waiting.join(60)
    assert opened.is_set(), "the second replica set up once the lock was free"
