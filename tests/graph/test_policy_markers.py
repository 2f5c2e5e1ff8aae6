"""No redaction marker is ever written: the policy refuses a patch holding one (graph/policies/markers),
and so does every write tool, whatever guard it was given (tools/guard.enforce)."""

from __future__ import annotations

from typing import Any

import pytest

from agent.domain import ActionType, WorkloadRef, remediation_from
from graph.policies import RemediationPolicy, evaluate, evaluate_remediation
from graph.policies.markers import marker_problems
from tools.boundary import redact_text
from tools.guard import GuardDecision, Verdict, WriteRequest, enforce
from tools.result import ToolFailure, ToolStatus

TARGET = WorkloadRef(namespace="shop", name="web-api")
MARKER = redact_text("password=Pg-pa55word-7731").split("=", 1)[1]


def _env(value: Any) -> dict[str, Any]:
    return {
        "spec": {
            "template": {"spec": {"containers": [{"name": "app", "env": [{"name": "DB", "value": value}]}]}}
        }
    }


@pytest.mark.parametrize(
    "patch",
    [
        _env(MARKER),
        _env(f"postgres://app:{MARKER}@db:5432/shop"),
        {"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["--password", MARKER]}]}}}},
        {"spec": {"template": {"metadata": {"annotations": {"example.com/token": MARKER}}}}},
    ],
)
def test_a_patch_holding_a_marker_is_refused_with_the_reason(patch: dict[str, Any]) -> None:
    assert MARKER.startswith("«redacted:")
    assert marker_problems(patch)
    verdict = evaluate(ActionType.GITOPS_PR, TARGET, patch=patch)
    assert not verdict.allowed
    assert any("redacted value" in reason for reason in verdict.reasons)


def test_a_rollback_restating_a_secret_is_refused_but_a_bare_rollback_is_not() -> None:
    restating = remediation_from(ActionType.ROLLBACK, {"revision": 3}, _env(MARKER))
    assert not evaluate_remediation(restating, TARGET).allowed
    bare = remediation_from(ActionType.ROLLBACK, {"revision": 3})
    assert evaluate_remediation(bare, TARGET).allowed


def test_a_clean_patch_passes_the_marker_check() -> None:
    assert marker_problems(_env("postgres://app@db:5432/shop")) == []
    assert evaluate(ActionType.GITOPS_PR, TARGET, patch=_env("info")).allowed


def test_the_guard_the_tools_get_refuses_a_marker_in_a_git_commit() -> None:
    request = WriteRequest("commit_manifest", "shop", "Deployment", "web-api", patch=_env(MARKER))
    decision = RemediationPolicy()(request)
    assert decision.verdict is Verdict.DENY and "redacted value" in decision.reason


def test_every_write_tool_refuses_a_marker_even_under_a_guard_that_allows_everything() -> None:
    def allow_all(_: WriteRequest) -> GuardDecision:
        return GuardDecision(Verdict.ALLOW, "anything goes")

    request = WriteRequest("patch", "shop", "Deployment", "web-api", patch=_env(MARKER))
    with pytest.raises(ToolFailure) as refused:
        enforce(allow_all, request)
    assert refused.value.status is ToolStatus.DENIED and "redacted value" in str(refused.value)
    assert enforce(allow_all, WriteRequest("patch", "shop", "Deployment", "web-api", patch=_env("x"))).allowed
