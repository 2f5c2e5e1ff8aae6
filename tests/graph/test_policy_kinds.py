"""The policy refuses actions that make no sense for a workload's kind (never scale a Job)."""

from __future__ import annotations

import pytest

from agent.domain import ActionType, WorkloadRef
from graph.policies import evaluate
from graph.policies.kinds import ACTIONS_BY_KIND, kind_problem

A = ActionType
PATCH = {
    "spec": {
        "template": {"spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}}
    }
}


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("Job", A.SCALE),
        ("Job", A.RESTART),
        ("Job", A.ROLLBACK),
        ("Job", A.PATCH),
        ("CronJob", A.SCALE),
        ("CronJob", A.ROLLBACK),
        ("DaemonSet", A.SCALE),
        ("Pod", A.RESTART),
        ("Pod", A.PATCH),
        ("Widget", A.RESTART),  # an unknown kind gets Git and humans only
    ],
)
def test_kind_inappropriate_actions_are_refused(kind: str, action: ActionType) -> None:
    problem = kind_problem(action, kind)
    assert problem is not None and problem.strip()


@pytest.mark.parametrize(
    ("kind", "action"),
    [
        ("Deployment", A.SCALE),
        ("StatefulSet", A.ROLLBACK),
        ("StatefulSet", A.SCALE),
        ("DaemonSet", A.RESTART),
        ("DaemonSet", A.ROLLBACK),
        ("Job", A.GITOPS_PR),
        ("Job", A.REVERT_COMMIT),
        ("CronJob", A.PATCH),
        ("Pod", A.NOTIFY),
    ],
)
def test_kind_appropriate_actions_pass(kind: str, action: ActionType) -> None:
    assert kind_problem(action, kind) is None


def test_every_kind_can_always_reach_a_human() -> None:
    for kind, actions in ACTIONS_BY_KIND.items():
        assert A.NOTIFY in actions and A.NONE in actions, kind


def test_the_policy_refuses_scaling_a_job_and_allows_a_gitops_fix() -> None:
    job = WorkloadRef(namespace="batch", kind="Job", name="migrate")
    scaled = evaluate(A.SCALE, job, parameters={"replicas": 2})
    assert not scaled.allowed
    assert any("never scaled" in r for r in scaled.reasons), scaled.reasons
    fixed = evaluate(A.GITOPS_PR, job, patch=PATCH)
    assert fixed.allowed, fixed.reasons


def test_the_policy_refuses_restarting_a_bare_pod() -> None:
    pod = WorkloadRef(namespace="web", kind="Pod", name="debug")
    verdict = evaluate(A.RESTART, pod)
    assert not verdict.allowed
    assert any("no controller" in r for r in verdict.reasons), verdict.reasons


def test_a_daemonset_rolls_back_but_never_scales() -> None:
    ds = WorkloadRef(namespace="monitoring", kind="DaemonSet", name="node-agent")
    assert evaluate(A.ROLLBACK, ds).allowed
    assert not evaluate(A.SCALE, ds, parameters={"replicas": 3}).allowed
