"""The collector around a start-up: off inside, on again afterwards (errors included), and what the
start-up built is frozen out of later collections."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from paramedic.cli.startup import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    yield
    # Only switched back on, not unfrozen: `gc.unfreeze()` would also thaw the heap the worker froze
    # after collection (tests/collector.py); the few objects these tests freeze are left frozen.
    gc.enable()


def test_the_collector_is_off_during_the_start_up_and_on_afterwards() -> None:
    frozen_before = gc.get_freeze_count()
    with collector_paused():
        assert not gc.isenabled()
        built = [[i] for i in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(built), "what the start-up built is frozen"


def test_a_failed_start_up_switches_the_collector_back_on() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the sandbox did not come up")
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()
