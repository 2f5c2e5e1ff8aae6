"""A HorizontalPodAutoscaler pinned at maxReplicas while it wants more."""

from __future__ import annotations

from datetime import timedelta

from agent.domain import WorkloadRef
from server.watcher.detect import DetectPolicy
from server.watcher.detect_hpa import HPA_AT_MAX, detect_hpa
from tests.server.watcher import objects as o

POLICY = DetectPolicy(grace_seconds=60)


def test_pinned_at_max_wanting_more_is_a_finding_on_the_scale_target() -> None:
    [finding] = detect_hpa(o.hpa(current=10, desired=14, maximum=10), o.NOW, POLICY).findings
    assert finding.reason == HPA_AT_MAX
    assert finding.target == WorkloadRef(namespace="shop", kind="Deployment", name="web-api")
    assert "maxReplicas 10" in finding.message and "wants 14" in finding.message


def test_the_scaling_limited_condition_counts_when_desired_is_clamped() -> None:
    found = detect_hpa(o.hpa(current=10, desired=10, maximum=10, limited=True), o.NOW, POLICY)
    assert [f.reason for f in found.findings] == [HPA_AT_MAX]


def test_at_max_wanting_exactly_max_is_busy_not_pinned() -> None:
    assert not detect_hpa(o.hpa(current=10, desired=10, maximum=10), o.NOW, POLICY)


def test_below_max_is_quiet() -> None:
    assert not detect_hpa(o.hpa(current=6, desired=8, maximum=10), o.NOW, POLICY)


def test_just_pinned_waits_for_the_grace_period() -> None:
    found = detect_hpa(
        o.hpa(current=10, desired=12, maximum=10, limited=True, limited_since=15), o.NOW, POLICY
    )
    assert not found.findings
    assert found.recheck_at == o.NOW + timedelta(seconds=45)


def test_garbage_yields_nothing() -> None:
    broken = o.hpa(current=10, desired=14)
    broken["spec"]["scaleTargetRef"] = "web-api"
    assert not detect_hpa(broken, o.NOW, POLICY)
    assert not detect_hpa({"status": {"currentReplicas": "ten"}}, o.NOW, POLICY)
