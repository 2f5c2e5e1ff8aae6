from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from agent.domain import WorkloadRef
from server.watcher import detect as d
from tests.server.watcher import objects as o

POLICY = d.DetectPolicy(grace_seconds=60, restart_threshold=3, restart_window_seconds=600)


def _reasons(detection: d.Detection) -> list[str]:
    return [f.reason for f in detection.findings]


# -- pods ------------------------------------------------------------------------------------------

CASES: list[tuple[str, Any, list[str]]] = [
    ("healthy", o.pod(), []),
    ("crashloop", o.pod(containers=[o.crashloop_container()], ready=False), [d.CRASH_LOOP]),
    (
        "oom in crashloop",
        o.pod(containers=[o.crashloop_container(last_reason="OOMKilled", exit_code=137)], ready=False),
        [d.OOM_KILLED],
    ),
    ("oom just terminated", o.pod(containers=[o.oom_terminated_container()], ready=False), [d.OOM_KILLED]),
    (
        "oom as waiting reason",
        o.pod(containers=[o.waiting_container("OOMKilled")], ready=False),
        [d.OOM_KILLED],
    ),
    (
        "image pull backoff",
        o.pod(
            phase="Pending",
            containers=[o.waiting_container("ImagePullBackOff", 'Back-off pulling image "x:9"')],
            ready=False,
        ),
        [d.IMAGE_PULL],
    ),
    (
        "err image pull",
        o.pod(phase="Pending", containers=[o.waiting_container("ErrImagePull", "not found")], ready=False),
        [d.IMAGE_PULL],
    ),
    (
        "config error",
        o.pod(
            phase="Pending",
            containers=[
                o.waiting_container(
                    "CreateContainerConfigError",
                    "couldn't find key DATABASE_URL in ConfigMap shop/web-api-config",
                )
            ],
            ready=False,
        ),
        [d.CONFIG_ERROR],
    ),
    ("unschedulable", o.unschedulable_pod(), [d.UNSCHEDULABLE]),
    ("evicted", o.evicted_pod(), [d.EVICTED]),
    (
        "container creating",
        o.pod(phase="Pending", containers=[o.waiting_container("ContainerCreating")], ready=False),
        [],
    ),
    (
        "not ready beyond grace",
        o.pod(containers=[o.running_container(ready=False)], ready=False, ready_since=120),
        [d.NOT_READY],
    ),
    (
        "not ready within grace",
        o.pod(containers=[o.running_container(ready=False)], ready=False, ready_since=10),
        [],
    ),
    ("succeeded", o.pod(phase="Succeeded", containers=[o.crashloop_container()]), []),
    (
        "two containers: most specific first",
        o.pod(
            containers=[o.crashloop_container(), o.waiting_container("CreateContainerConfigError")],
            ready=False,
        ),
        [d.CONFIG_ERROR, d.CRASH_LOOP],
    ),
    (
        "old OOM but running now",
        o.pod(
            containers=[
                {
                    **o.running_container(restarts=1),
                    "lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}},
                }
            ]
        ),
        [],
    ),
]


@pytest.mark.parametrize(("name", "obj", "expected"), CASES, ids=[c[0] for c in CASES])
def test_detect_pod(name: str, obj: Any, expected: list[str]) -> None:
    assert _reasons(d.detect_pod(obj, o.NOW, POLICY)) == expected


def test_pod_findings_leave_the_target_to_owner_resolution_and_say_what_they_saw() -> None:
    found = d.detect_pod(
        o.pod(containers=[o.waiting_container("ErrImagePull", "manifest unknown")]), o.NOW, POLICY
    )
    (finding,) = found.findings
    assert finding.target is None
    assert finding.container == "app"
    assert "ErrImagePull" in finding.message and "manifest unknown" in finding.message


def test_terminating_pod_is_not_an_anomaly() -> None:
    obj = o.pod(containers=[o.crashloop_container()], ready=False)
    obj["metadata"]["deletionTimestamp"] = o.ago(1)
    assert not d.detect_pod(obj, o.NOW, POLICY)


def test_not_ready_within_grace_asks_for_a_recheck_when_grace_ends() -> None:
    obj = o.pod(containers=[o.running_container(ready=False)], ready=False, ready_since=10)
    detection = d.detect_pod(obj, o.NOW, POLICY)
    assert not detection.findings
    assert detection.recheck_at == o.NOW + timedelta(seconds=50)
    later = d.detect_pod(obj, detection.recheck_at, POLICY)
    assert _reasons(later) == [d.NOT_READY]
    assert "app" in later.findings[0].message


GARBAGE: list[Any] = [
    None,
    42,
    "pod",
    [],
    {},
    {"metadata": None, "status": None},
    {"status": {"phase": 7, "conditions": "nope", "containerStatuses": [None, 3, {"state": "x"}]}},
    {
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "yesterday"}],
        }
    },
    {"status": {"containerStatuses": [{"state": {"waiting": {"reason": None}}, "lastState": []}]}},
    {
        "status": {
            "phase": "Pending",
            "conditions": [
                {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": None}
            ],
        }
    },
]


@pytest.mark.parametrize("obj", GARBAGE)
def test_garbage_never_raises(obj: Any) -> None:
    for detection in (
        d.detect_pod(obj, o.NOW, POLICY),
        d.detect_deployment(obj, o.NOW, POLICY),
        d.detect_application(obj),
        d.detect_kustomization(obj),
    ):
        assert isinstance(detection, d.Detection)
        for finding in detection.findings:
            assert finding.reason in d.PRIORITY


def test_unschedulable_survives_a_missing_message() -> None:
    (finding,) = d.detect_pod(GARBAGE[-1], o.NOW, POLICY).findings
    assert finding.reason == d.UNSCHEDULABLE and finding.message


# -- restarts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restarts", "expected"), [(0, None), (2, None), (3, d.FREQUENT_RESTARTS), (10, d.FREQUENT_RESTARTS)]
)
def test_restart_finding_at_threshold(restarts: int, expected: str | None) -> None:
    finding = d.restart_finding(restarts, POLICY)
    assert (finding.reason if finding else None) == expected


def test_restart_total_sums_containers_and_ignores_nonsense() -> None:
    obj = o.pod(containers=[o.running_container("a", restarts=2), o.running_container("b", restarts=3)])
    obj["status"]["initContainerStatuses"] = [
        {"name": "init", "restartCount": 1},
        {"restartCount": "many"},
        {"restartCount": True},
    ]
    assert d.restart_total(obj) == 6


# -- deployments -----------------------------------------------------------------------------------

DEPLOYMENTS: list[tuple[str, Any, list[str]]] = [
    ("healthy", o.deployment(), []),
    (
        "unavailable beyond grace",
        o.deployment(unavailable=2, available_false_since=300),
        [d.UNAVAILABLE_REPLICAS],
    ),
    ("unavailable within grace", o.deployment(unavailable=2, available_false_since=30), []),
    ("rollout, still available, no memory", o.deployment(unavailable=1), []),
    ("zero unavailable", o.deployment(unavailable=0, available_false_since=300), []),
]


@pytest.mark.parametrize(("name", "obj", "expected"), DEPLOYMENTS, ids=[c[0] for c in DEPLOYMENTS])
def test_detect_deployment(name: str, obj: Any, expected: list[str]) -> None:
    assert _reasons(d.detect_deployment(obj, o.NOW, POLICY)) == expected


def test_deployment_still_available_uses_when_the_caller_first_saw_it() -> None:
    obj = o.deployment(unavailable=1)
    first = d.detect_deployment(obj, o.NOW, POLICY, first_seen=o.NOW)
    assert not first.findings and first.recheck_at == o.NOW + timedelta(seconds=60)
    later = d.detect_deployment(obj, o.NOW + timedelta(seconds=61), POLICY, first_seen=o.NOW)
    assert _reasons(later) == [d.UNAVAILABLE_REPLICAS]
    assert "1 of 3 replicas unavailable for 61s" in later.findings[0].message


def test_deployment_message_names_the_progress_deadline() -> None:
    obj = o.deployment(unavailable=3, available_false_since=900, progress_deadline_exceeded=True)
    (finding,) = d.detect_deployment(obj, o.NOW, POLICY).findings
    assert "timed out progressing" in finding.message


def test_paused_deployment_is_left_alone() -> None:
    obj = o.deployment(unavailable=2, available_false_since=300)
    obj["spec"]["paused"] = True
    assert not d.detect_deployment(obj, o.NOW, POLICY)


# -- Argo CD and Flux ------------------------------------------------------------------------------


def test_healthy_application_is_nothing() -> None:
    assert not d.detect_application(o.application())


def test_degraded_application_targets_the_degraded_workloads() -> None:
    detection = d.detect_application(o.application(health="Degraded", degraded=["worker"]))
    (finding,) = detection.findings
    assert finding.reason == d.APPLICATION_DEGRADED
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="worker")
    assert "CrashLoopBackOff" in finding.message


def test_degraded_application_without_a_degraded_workload_targets_itself() -> None:
    (finding,) = d.detect_application(o.application(health="Degraded")).findings
    assert finding.target == WorkloadRef(namespace="argocd", kind="Application", name="sandbox-apps")


@pytest.mark.parametrize("phase", ["Failed", "Error"])
def test_failed_sync_targets_the_application(phase: str) -> None:
    (finding,) = d.detect_application(o.application(phase=phase)).findings
    assert finding.reason == d.SYNC_FAILED
    assert finding.target == WorkloadRef(namespace="argocd", kind="Application", name="sandbox-apps")
    assert "bad memory quantity" in finding.message


def test_failed_sync_and_degraded_health_are_both_reported() -> None:
    detection = d.detect_application(o.application(health="Degraded", phase="Failed", degraded=["web-api"]))
    assert _reasons(detection) == [d.SYNC_FAILED, d.APPLICATION_DEGRADED]


@pytest.mark.parametrize(
    ("ready", "suspend", "expected"),
    [
        ("True", False, []),
        ("Unknown", False, []),
        ("False", False, [d.KUSTOMIZATION_NOT_READY]),
        ("False", True, []),
    ],
)
def test_detect_kustomization(ready: str, suspend: bool, expected: list[str]) -> None:
    obj = o.kustomization(
        ready=ready, reason="BuildFailed", message="kustomize build failed: missing resource", suspend=suspend
    )
    detection = d.detect_kustomization(obj)
    assert _reasons(detection) == expected
    if expected:
        assert detection.findings[0].target == WorkloadRef(
            namespace="flux-system", kind="Kustomization", name="shop"
        )
        assert "BuildFailed: kustomize build failed" in detection.findings[0].message


def test_parse_time() -> None:
    assert d.parse_time("2025-06-02T09:30:00Z") == o.NOW
    assert d.parse_time("2025-06-02T09:30:00") is None  # naive: refuse rather than guess a zone
    assert d.parse_time("garbage") is None and d.parse_time(None) is None
