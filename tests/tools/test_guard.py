"""The write guard protocol and the field allow-list mechanism (pure; no I/O)."""

from __future__ import annotations

import pytest

from tools.guard import (
    FieldAllowListGuard,
    Verdict,
    WriteRequest,
    deny_all,
    fields_outside,
    patch_paths,
)


def _containers(*containers: dict) -> dict:
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}}


def _request(patch: dict | None, action: str = "patch") -> WriteRequest:
    return WriteRequest(action=action, namespace="shop", kind="Deployment", name="web-api", patch=patch)


def test_patch_paths_name_every_leaf_with_list_items_marked() -> None:
    patch = _containers({"name": "app", "resources": {"limits": {"memory": "512Mi"}}})
    assert sorted(patch_paths(patch)) == [
        "spec.template.spec.containers[*].name",
        "spec.template.spec.containers[*].resources.limits.memory",
    ]
    assert list(patch_paths({"spec": {"template": {"spec": {"$patch": "replace"}}}})) == [
        "spec.template.spec.$patch"
    ]


def test_list_marker_is_literal_and_star_is_one_segment() -> None:
    allow = ["spec.template.spec.containers[*].env[*].*"]
    assert fields_outside(["spec.template.spec.containers[*].env[*].value"], allow) == []
    # `[*]` must not act as a glob character class, and `*` must not cross a dot.
    assert fields_outside(["spec.template.spec.containers*.env[*].value"], allow)
    assert fields_outside(["spec.template.spec.containers[*].env[*].valueFrom.secretKeyRef"], allow)


@pytest.mark.parametrize(
    "patch",
    [
        {"spec": {"replicas": 3}},
        _containers({"name": "app", "resources": {"limits": {"memory": "1Gi"}, "requests": {"cpu": "200m"}}}),
        _containers({"name": "app", "env": [{"name": "POOL_SIZE", "value": "10"}]}),
        _containers({"name": "app", "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}}}),
        _containers({"name": "app", "livenessProbe": {"initialDelaySeconds": 30}}),
    ],
)
def test_allow_listed_fields_are_allowed(patch: dict) -> None:
    assert FieldAllowListGuard()(_request(patch)).verdict is Verdict.ALLOW


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        (_containers({"name": "app", "image": "evil.example/miner:latest"}), "containers[*].image"),
        (_containers({"name": "app", "securityContext": {"privileged": True}}), "securityContext"),
        ({"spec": {"template": {"spec": {"hostNetwork": True}}}}, "hostNetwork"),
        ({"spec": {"template": {"spec": {"serviceAccountName": "cluster-admin"}}}}, "serviceAccountName"),
        ({"metadata": {"namespace": "kube-system"}}, "metadata.namespace"),
        ({"spec": {"template": {"spec": {"$patch": "replace"}}}}, "$patch"),
    ],
)
def test_fields_outside_the_allow_list_are_denied_and_named(patch: dict, field: str) -> None:
    decision = FieldAllowListGuard()(_request(patch))
    assert decision.verdict is Verdict.DENY and not decision.allowed
    assert field in decision.reason


@pytest.mark.parametrize("action", ["rollback", "revert_commit"])
def test_image_changes_only_for_rollback_and_revert(action: str) -> None:
    patch = _containers({"name": "app", "image": "ghcr.io/paramedic-demo/web-api:1.4.2"})
    assert FieldAllowListGuard()(_request(patch, action)).allowed
    assert not FieldAllowListGuard()(_request(patch, "patch")).allowed


def test_no_patch_is_allowed_and_the_default_guard_fails_closed() -> None:
    assert FieldAllowListGuard()(_request(None, "restart")).allowed
    decision = deny_all(_request({"spec": {"replicas": 2}}))
    assert decision.verdict is Verdict.DENY and "no policy guard" in decision.reason
