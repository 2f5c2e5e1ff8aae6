from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from agent.domain import Incident, Trigger, WorkloadRef, fingerprint
from server.watcher.fold import ALSO_SEEN_LABEL, OCCURRENCES_LABEL, Folder, Outcome
from tests.clocks import ManualClock
from tests.server.watcher.objects import NOW


def incident(name: str = "web-api", reason: str = "CrashLoopBackOff", pod: str = "p1") -> Incident:
    target = WorkloadRef(namespace="shop", name=name)
    return Incident(
        id=f"{name}-{reason}-{pod}",
        fingerprint=fingerprint(target, reason),
        target=target,
        trigger=Trigger.WATCHER,
        reason=reason,
        labels={"pod": pod},
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def test_a_storm_of_pods_is_one_incident(clock: ManualClock) -> None:
    folder = Folder(clock)
    outcomes = [folder.offer(incident(pod=f"p{i}")).outcome for i in range(20)]
    assert outcomes == [Outcome.QUEUED] + [Outcome.FOLDED] * 19
    taken = folder.take(timeout=0)
    assert taken is not None and taken.id == "web-api-CrashLoopBackOff-p0"
    assert taken.labels[OCCURRENCES_LABEL] == "20"
    assert folder.take(timeout=0) is None
    assert folder.stats().folded == 19 and folder.stats().dispatched == 1


def test_other_reasons_of_the_same_workload_merge_into_the_pending_incident(clock: ManualClock) -> None:
    folder = Folder(clock)
    folder.offer(incident(reason="OOMKilled"))
    assert folder.offer(incident(reason="UnavailableReplicas")).outcome is Outcome.MERGED
    assert folder.offer(incident(reason="UnavailableReplicas")).outcome is Outcome.MERGED
    assert folder.offer(incident(name="worker")).outcome is Outcome.QUEUED
    first = folder.take(timeout=0)
    assert first is not None and first.reason == "OOMKilled"
    assert first.labels[ALSO_SEEN_LABEL] == "UnavailableReplicas"
    second = folder.take(timeout=0)
    assert second is not None and second.target.name == "worker"


def test_one_active_run_per_workload_then_cooldown(clock: ManualClock) -> None:
    folder = Folder(clock, cooldown_seconds=300)
    folder.offer(incident())
    run = folder.take(timeout=0)
    assert run is not None and folder.is_active(run.fingerprint)
    assert folder.offer(incident(pod="p9")).outcome is Outcome.FOLDED
    assert folder.offer(incident(reason="NotReady")).outcome is Outcome.MERGED
    assert len(folder) == 0

    finished = folder.run_finished(run.fingerprint)
    assert finished is not None and finished.cooldown_until == NOW + timedelta(seconds=300)
    assert not folder.is_active(run.fingerprint)
    refused = folder.offer(incident())
    assert refused.outcome is Outcome.COOLDOWN and refused.retry_at == NOW + timedelta(seconds=300)
    assert folder.offer(incident(name="worker")).outcome is Outcome.QUEUED  # cooldown is per workload

    clock.advance(299)
    assert folder.offer(incident()).outcome is Outcome.COOLDOWN
    clock.advance(1)
    assert folder.offer(incident()).outcome is Outcome.QUEUED
    assert folder.stats().cooldown == 2


def test_a_cooldown_can_end_when_the_shared_store_says(clock: ManualClock) -> None:
    # A new leader attached a sighting to a run the old leader ended 200 s ago: what is left of
    # that run's window (kept in the store) holds the workload back, not a fresh full cooldown.
    folder = Folder(clock, cooldown_seconds=300)
    folder.offer(incident())
    run = folder.take(timeout=0)
    assert run is not None
    store_window_ends = NOW + timedelta(seconds=100)
    finished = folder.run_finished(run.fingerprint, store_window_ends)
    assert finished is not None and finished.cooldown_until == store_window_ends
    assert folder.offer(incident()).outcome is Outcome.COOLDOWN
    clock.advance(100)
    assert folder.offer(incident()).outcome is Outcome.QUEUED


def test_unknown_or_repeated_run_finished_is_harmless(clock: ManualClock) -> None:
    folder = Folder(clock)
    assert folder.run_finished("nope") is None
    folder.offer(incident())
    run = folder.take(timeout=0)
    assert run is not None
    assert folder.run_finished(run.fingerprint) is not None
    assert folder.run_finished(run.fingerprint) is None


def test_full_queue_drops_new_workloads_without_blocking_and_counts(clock: ManualClock) -> None:
    folder = Folder(clock, capacity=2, retry_seconds=5)
    assert folder.offer(incident("a")).outcome is Outcome.QUEUED
    assert folder.offer(incident("b")).outcome is Outcome.QUEUED
    started = time.monotonic()
    dropped = folder.offer(incident("c"))
    assert time.monotonic() - started < 0.5
    assert dropped.outcome is Outcome.DROPPED and dropped.retry_at == NOW + timedelta(seconds=5)
    assert folder.offer(incident("a", pod="p2")).outcome is Outcome.FOLDED  # known workloads still fold
    assert folder.stats().dropped == 1
    folder.take(timeout=0)
    assert folder.offer(incident("c")).outcome is Outcome.QUEUED


def test_take_wakes_on_offer_and_on_close(clock: ManualClock) -> None:
    folder = Folder(clock)
    got: list[Incident | None] = []
    taker = threading.Thread(target=lambda: got.append(folder.take(timeout=5)))
    taker.start()
    folder.offer(incident())
    taker.join(timeout=5)
    assert got and got[0] is not None

    closer = threading.Thread(target=lambda: got.append(folder.take(timeout=5)))
    closer.start()
    folder.close()
    closer.join(timeout=5)
    assert not closer.is_alive() and got[1] is None


@pytest.mark.parametrize(("capacity", "cooldown", "retry"), [(0, 1, 1), (1, -1, 1), (1, 1, 0)])
def test_bad_settings_are_refused(capacity: int, cooldown: float, retry: float) -> None:
    with pytest.raises(ValueError):
        Folder(ManualClock(NOW), capacity, cooldown, retry)
