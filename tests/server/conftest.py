"""Fixtures shared by the server tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from server.runstore import RunStore, open_run_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    """A fresh SQLite run store under the test's tmp_path, closed after it."""
    run_store = open_run_store(f"sqlite:///{(tmp_path / 'runs.db').as_posix()}")
    yield run_store
    run_store.close()
