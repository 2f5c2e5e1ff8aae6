"""Fixtures for the run-store tests: each runs on SQLite and on PostgreSQL (`storage_url`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server.runstore import RunStore, open_run_store


@pytest.fixture
def store(storage_url: str) -> Iterator[RunStore]:
    """A run store on the backend under test, closed after the test."""
    with open_run_store(storage_url) as opened:
        yield opened
