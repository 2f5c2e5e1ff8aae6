"""Errors after a rollout: when a baseline is read, when the new pods are judged, and what counts."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest

from agent.config import ScopeSettings
from agent.domain import WorkloadRef
from server.watcher.rollout_errors import (
    BASELINE,
    CHECK,
    ERROR_RATE_AFTER_ROLLOUT,
    ErrorRatePolicy,
    RolloutErrors,
    judge,
    rollout_complete,
)
from server.watcher.watcher import DEPLOYMENT, POD, Watcher
from tests.server.watcher.driving import drain, recheck_due, specs_of
from tests.server.watcher.objects import NOW, ago, deployment, pod, ts
from tools.evidence.error_lines import ErrorCount

Obj = dict[str, Any]
KEY = ("Deployment", "shop", "web-api")
POLICY = ErrorRatePolicy()
SETTLE = timedelta(seconds=POLICY.settle_seconds)
OK_LINE = '{"level":"info","msg":"served","status":200}'
TOKEN = "ghp_" + "a1" * 18
BAD_LINE = '{"level":"error","msg":"request failed","status":500,"error":"bad MODE; token=' + TOKEN + '"}'


def rolled(image: str = "web-api:1.4.2", completed: float = 30, *, complete: bool = True) -> Obj:
    """web-api with a pod template, its last rollout completed `completed` seconds before NOW."""
    d = deployment(replicas=2)
    d["spec"]["template"] = {
        "metadata": {"labels": {"app": "web-api"}},
        "spec": {"containers": [{"name": "app", "image": image}]},
    }
    d["status"]["conditions"][1]["lastUpdateTime"] = ago(completed)
    if not complete:
        d["metadata"]["generation"] = 5
        d["status"]["updatedReplicas"] = 1
        d["status"]["conditions"][1]["reason"] = "ReplicaSetUpdated"
    return d


def web_pod(name: str, created: float, *, ready: bool = True) -> Obj:
    p = pod(name, started=created, ready=ready)
    p["metadata"]["labels"]["app"] = "web-api"
    return p


class Logs:
    """Pod logs by pod name; a name missing raises, as a read of a vanished pod would."""

    def __init__(self, by_pod: dict[str, list[str]]) -> None:
        self.by_pod = by_pod
        self.reads: list[tuple[str, int]] = []

    def __call__(self, namespace: str, pod_name: str, container: str, tail_lines: int) -> str:
        self.reads.append((pod_name, tail_lines))
        return "\n".join(self.by_pod[pod_name])


def lines(errors: int, ok: int) -> list[str]:
    return [BAD_LINE] * errors + [OK_LINE] * ok


# -- the decision -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "opens"),
    [
        (ErrorCount(200, 6), ErrorCount(100, 85), True),  # 3 % -> 85 %
        (None, ErrorCount(100, 85), True),  # no baseline: far above what a healthy service logs
        (None, ErrorCount(100, 40), False),  # no baseline: 40 % is not enough on its own
        (ErrorCount(200, 6), ErrorCount(100, 40), True),  # 3 % -> 40 %
        (ErrorCount(200, 80), ErrorCount(100, 45), False),  # 40 % before: a noisy app, no change
        (ErrorCount(200, 40), ErrorCount(100, 38), False),  # 20 % -> 38 %: less than 20 points above
        (ErrorCount(200, 40), ErrorCount(100, 45), True),  # 20 % -> 45 %: 25 points, over twice
        (ErrorCount(200, 6), ErrorCount(15, 15), False),  # too few lines to say
        (ErrorCount(200, 6), ErrorCount(400, 9), False),  # too few errors
        (ErrorCount(5, 0), ErrorCount(100, 40), False),  # a baseline of 5 lines counts as none
    ],
)
def test_judge(before: ErrorCount | None, after: ErrorCount, opens: bool) -> None:
    assert judge(before, after, POLICY) is opens


def test_rollout_complete_needs_every_replica_updated_and_available() -> None:
    assert rollout_complete(rolled())
    assert not rollout_complete(rolled(complete=False))
    zero = rolled()
    zero["spec"]["replicas"] = 0
    assert not rollout_complete(zero)


# -- scheduling -------------------------------------------------------------------------------


def test_first_sight_of_a_recent_rollout_schedules_a_check_after_the_settle_window() -> None:
    checks = RolloutErrors(lambda ns: [], Logs({}))
    done = NOW - timedelta(seconds=30)
    assert checks.observe(KEY, rolled(completed=30), NOW) == [((CHECK, "shop", "web-api"), done + SETTLE)]
    assert checks.pending() == 1
    assert checks.observe(KEY, rolled(completed=30), NOW) == []  # the same state again: nothing new


def test_an_old_rollout_a_first_start_or_a_scale_schedules_nothing() -> None:
    checks = RolloutErrors(lambda ns: [], Logs({}))
    created = rolled(completed=30)
    created["metadata"]["generation"] = created["status"]["observedGeneration"] = 1
    assert checks.observe(("Deployment", "shop", "new-app"), created, NOW) == []  # never changed
    assert checks.observe(KEY, rolled(completed=3600), NOW) == []
    scaled = rolled(completed=3600)
    scaled["spec"]["replicas"] = 5
    assert checks.observe(KEY, scaled, NOW) == []
    assert checks.pending() == 0


def test_a_template_change_reads_a_baseline_now_and_checks_after_completion() -> None:
    checks = RolloutErrors(lambda ns: [], Logs({}))
    checks.observe(KEY, rolled(completed=3600), NOW)
    assert checks.observe(KEY, rolled("web-api:1.5.0", complete=False), NOW) == [
        ((BASELINE, "shop", "web-api"), NOW)
    ]
    later = NOW + timedelta(seconds=20)
    assert checks.observe(KEY, rolled("web-api:1.5.0"), later) == [
        ((CHECK, "shop", "web-api"), later + SETTLE)
    ]
    checks.forget(KEY)
    assert checks.pending() == 0


# -- the check ------------------------------------------------------------------------------


def _rollout(old: list[str], new: list[str]) -> tuple[RolloutErrors, list[Obj]]:
    """web-api rolled from one old pod to one new pod; the new pod ready a settle window later."""
    pods = [web_pod("web-api-old", created=3600)]
    logs = Logs({"web-api-old": old, "web-api-new": new})
    checks = RolloutErrors(lambda ns: list(pods), logs)
    checks.observe(KEY, rolled(completed=3600), NOW)
    checks.observe(KEY, rolled("web-api:1.5.0", complete=False), NOW)
    assert checks.due((BASELINE, "shop", "web-api"), rolled("web-api:1.5.0", complete=False), NOW) == (
        None,
        None,
    )
    pods[:] = [web_pod("web-api-new", created=-5)]  # created after NOW: the baseline never reads it
    checks.observe(KEY, rolled("web-api:1.5.0"), NOW + timedelta(seconds=10))
    return checks, pods


def test_errors_well_above_the_baseline_open_an_incident_with_the_evidence_redacted() -> None:
    checks, _ = _rollout(old=lines(3, 97), new=lines(85, 15))
    at = NOW + timedelta(seconds=10) + SETTLE
    early = at - timedelta(seconds=1)
    assert checks.due((CHECK, "shop", "web-api"), rolled("web-api:1.5.0"), early) == (None, at)  # not yet
    finding, _ = checks.due((CHECK, "shop", "web-api"), rolled("web-api:1.5.0"), at)
    assert finding is not None and finding.reason == ERROR_RATE_AFTER_ROLLOUT
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
    assert "85% (85 of 100 lines)" in finding.message and "3% (3 of 100 lines) before" in finding.message
    assert "request failed" in finding.message and TOKEN not in finding.message  # the sample, redacted
    assert checks.pending() == 0
    assert checks.due((CHECK, "shop", "web-api"), rolled("web-api:1.5.0"), at) == (None, None)  # once


def test_a_noisy_app_that_stays_noisy_opens_nothing() -> None:
    checks, _ = _rollout(old=lines(45, 55), new=lines(50, 50))
    assert checks.due((CHECK, "shop", "web-api"), rolled("web-api:1.5.0"), NOW + 2 * SETTLE) == (None, None)


def test_a_newer_rollout_or_a_broken_rollout_cancels_the_check() -> None:
    checks, _ = _rollout(old=lines(0, 100), new=lines(90, 10))
    assert checks.due((CHECK, "shop", "web-api"), rolled("web-api:1.6.0"), NOW + 2 * SETTLE) == (None, None)
    checks, _ = _rollout(old=lines(0, 100), new=lines(90, 10))
    broken = rolled("web-api:1.5.0")
    broken["status"]["availableReplicas"] = 1
    assert checks.due((CHECK, "shop", "web-api"), broken, NOW + 2 * SETTLE) == (None, None)
    assert checks.pending() == 0  # not left pending: a watcher waiting to be quiet would wait forever


def test_unready_pods_and_unreadable_logs_are_left_out() -> None:
    pods = [web_pod("web-api-new", created=10), web_pod("web-api-starting", created=1, ready=False)]
    logs = Logs({"web-api-new": lines(90, 10)})  # reading "web-api-gone" raises KeyError
    checks = RolloutErrors(lambda ns: [*pods, web_pod("web-api-gone", created=5)], logs)
    checks.observe(KEY, rolled(completed=30), NOW)
    finding, _ = checks.due((CHECK, "shop", "web-api"), rolled(completed=30), NOW + SETTLE)
    assert finding is not None and "in the newest 1 ready pod(s), no baseline" in finding.message
    assert {name for name, _ in logs.reads} == {"web-api-new", "web-api-gone"}
    assert all(tail == POLICY.tail_lines for _, tail in logs.reads)


def test_other_workloads_pods_are_not_read() -> None:
    other = web_pod("worker-1", created=10)
    other["metadata"]["labels"]["app"] = "worker"
    logs = Logs({"worker-1": lines(90, 10)})
    checks = RolloutErrors(lambda ns: [other], logs)
    checks.observe(KEY, rolled(completed=30), NOW)
    assert checks.due((CHECK, "shop", "web-api"), rolled(completed=30), NOW + SETTLE) == (None, None)
    assert logs.reads == []


# -- in the watcher -------------------------------------------------------------------------


def test_the_watcher_opens_the_incident_and_counts_the_settle_window_as_backlog() -> None:
    from kubernetes import client as k8s

    clock = [NOW]
    new = web_pod("web-api-new", created=40)
    logs = Logs({"web-api-new": lines(80, 20)})
    watcher = Watcher(
        k8s.ApiClient(k8s.Configuration()),
        ScopeSettings(),
        lambda i: None,
        lambda: clock[0],
        reader=lambda *a: None,
        logs=logs,
    )
    specs = specs_of(("Pod", "Deployment"))
    watcher.on_event(specs[POD], "ADDED", new)
    d = rolled(completed=30)
    d["status"]["conditions"][1]["lastUpdateTime"] = ts(NOW - timedelta(seconds=30))
    watcher.on_event(specs[DEPLOYMENT], "ADDED", d)
    assert watcher.backlog() == 1  # a check waits for its settle window: the cluster is not quiet yet
    clock[0] = NOW + SETTLE
    recheck_due(watcher, clock[0])
    incidents = drain(watcher)
    assert [(i.reason, str(i.target)) for i in incidents] == [
        (ERROR_RATE_AFTER_ROLLOUT, "shop/deployment/web-api")
    ]
    assert incidents[0].labels["paramedic.dev/source"] == "Deployment/web-api"
    assert watcher.backlog() == 0
    watcher.on_event(specs[DEPLOYMENT], "DELETED", copy.deepcopy(d))
