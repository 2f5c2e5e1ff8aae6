"""The event recorder aggregates repeats like client-go and lets Events expire after the TTL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sandbox.apiserver.tables import age
from sandbox.controllers.events import EVENT_TTL_SECONDS, EventRecorder, Source
from sandbox.resources import EVENTS
from sandbox.store import Store
from tests.clocks import ManualClock

POD = {"kind": "Pod", "apiVersion": "v1", "metadata": {"namespace": "shop", "name": "web-1", "uid": "u1"}}
KUBELET = Source("kubelet", "node-1")


def events(store: Store) -> list[dict]:
    return store.list(EVENTS, "shop")[0]


def test_a_repeat_bumps_the_count_and_an_unseen_event_expires_after_the_ttl() -> None:
    store, clock = Store(), ManualClock(1_000_000.0)
    recorder = EventRecorder(store, clock)
    recorder.emit(POD, "Warning", "BackOff", "Back-off restarting failed container", KUBELET)
    clock.now += 30
    recorder.emit(POD, "Warning", "BackOff", "Back-off restarting failed container", KUBELET)
    (event,) = events(store)
    assert event["count"] == 2 and event["involvedObject"]["name"] == "web-1"

    clock.now += EVENT_TTL_SECONDS - 1
    recorder.expire()
    assert len(events(store)) == 1, "seen within the TTL: kept"
    clock.now += 1
    recorder.expire()
    assert events(store) == []

    recorder.emit(POD, "Warning", "BackOff", "Back-off restarting failed container", KUBELET)
    (fresh,) = events(store)
    assert fresh["count"] == 1 and fresh["metadata"]["name"] != event["metadata"]["name"]


NOW = datetime(2026, 1, 10, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("timestamp", "shown"),
    [
        ("2026-01-10T11:59:55Z", "5s"),
        ("2026-01-10T11:58:01Z", "119s"),
        ("2026-01-10T11:57:00Z", "3m"),
        ("2026-01-10T11:55:30Z", "4m30s"),
        # apimachinery's HumanDuration counts minutes up to three hours
        ("2026-01-10T09:55:00Z", "125m"),
        ("2026-01-10T10:00:00Z", "120m"),
        ("2026-01-10T08:55:00Z", "3h5m"),
        ("2026-01-10T03:00:00Z", "9h"),
        ("2026-01-06T12:00:00Z", "4d"),
        ("2026-01-10T12:00:01Z", "0s"),  # a clock a second ahead is "now"
        ("2026-01-10T12:00:10Z", "<invalid>"),  # further ahead: kubectl says so
        (None, "<unknown>"),
        ("yesterday", "<unknown>"),
    ],
)
def test_ages_read_like_kubectls(timestamp: str | None, shown: str) -> None:
    assert age(timestamp, NOW) == shown
