from __future__ import annotations

from datetime import timedelta

import pytest

from server.watcher.restarts import RestartWindow
from tests.server.watcher import objects as o


def _pod(restarts: int, started: float = 3600, uid: str = "uid-a") -> dict:
    return o.pod(containers=[o.running_container(restarts=restarts)], started=started, uid=uid)


def test_old_pod_restarts_are_a_baseline_and_later_increases_count() -> None:
    window = RestartWindow(window_seconds=600)
    assert window.observe(_pod(40), o.NOW) == 0  # started an hour ago: when those happened is unknown
    assert window.observe(_pod(41), o.NOW + timedelta(seconds=10)) == 1
    assert window.observe(_pod(43), o.NOW + timedelta(seconds=20)) == 3


def test_restarts_of_a_pod_started_within_the_window_all_count() -> None:
    window = RestartWindow(window_seconds=600)
    assert window.observe(_pod(4, started=120), o.NOW) == 4


def test_restarts_age_out_of_the_window() -> None:
    window = RestartWindow(window_seconds=600)
    window.observe(_pod(0), o.NOW)
    window.observe(_pod(2), o.NOW + timedelta(seconds=10))
    assert window.observe(_pod(3), o.NOW + timedelta(seconds=400)) == 3
    assert window.observe(_pod(3), o.NOW + timedelta(seconds=611)) == 1  # the first two are older than 600s
    assert window.observe(_pod(3), o.NOW + timedelta(seconds=1001)) == 0


def test_a_lower_count_is_a_new_baseline() -> None:
    window = RestartWindow(window_seconds=600)
    window.observe(_pod(5), o.NOW)
    assert window.observe(_pod(0), o.NOW + timedelta(seconds=1)) == 0
    assert window.observe(_pod(1), o.NOW + timedelta(seconds=2)) == 1


def test_pods_are_counted_separately_forgotten_and_bounded() -> None:
    window = RestartWindow(window_seconds=600, max_pods=2)
    window.observe(_pod(0, uid="a"), o.NOW)
    window.observe(_pod(0, uid="b"), o.NOW)
    assert window.observe(_pod(2, uid="a"), o.NOW) == 2
    window.observe(_pod(0, uid="c"), o.NOW)  # evicts b, the least recently seen
    assert len(window) == 2
    window.forget("a")
    assert len(window) == 1


def test_objects_without_uid_count_nothing() -> None:
    assert RestartWindow(600).observe({"metadata": {}}, o.NOW) == 0


@pytest.mark.parametrize(("seconds", "max_pods"), [(0, 10), (600, 0)])
def test_bad_settings_are_refused(seconds: float, max_pods: int) -> None:
    with pytest.raises(ValueError):
        RestartWindow(seconds, max_pods)
