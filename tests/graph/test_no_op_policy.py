"""No-op detection (graph/policies/no_op): empty diffs, reverts of reverts, rollbacks to the current or a
failing revision are named; real changes are not."""

from __future__ import annotations

from typing import Any

from agent.domain import (
    Evidence,
    EvidenceItem,
    EvidenceKind,
    GitOpsPullRequest,
    Restart,
    RevertCommit,
    Rollback,
    Scale,
    WorkloadRef,
)
from graph.policies.no_op import already_holds, no_op_reason
from tests.manifests import app_patch, with_containers

TARGET = WorkloadRef(namespace="shop", name="web-api")
MANIFEST = with_containers(
    {
        "name": "app",
        "image": "reg.io/shop/web:2",
        "env": [{"name": "DB_HOST", "value": "db"}],
        "resources": {"limits": {"memory": "256Mi"}},
    },
    {"name": "sidecar", "image": "reg.io/proxy:1"},
    replicas=2,
)
CUT = "-            memory: 256Mi\n+            memory: 128Mi"


def _commit(sha: str, message: str, diff: str = CUT) -> EvidenceItem:
    return EvidenceItem(
        id=f"commit:{sha}",
        kind=EvidenceKind.COMMIT,
        source="git",
        text=message,
        data={"sha": sha, "message": message, "diff": diff, "files": ["apps/web.yaml"]},
    )


def _revision(n: int, current: bool = False, pods: tuple[int, int] | None = None) -> EvidenceItem:
    data: dict[str, Any] = {"revision": n, "current": current, "template": {}}
    if pods is not None:
        data["replicas"], data["ready_replicas"] = pods
    return EvidenceItem(id=f"rollout:{n}", kind=EvidenceKind.ROLLOUT, source="rs", text=f"rev {n}", data=data)


def _evidence(*items: EvidenceItem) -> Evidence:
    return Evidence(target=TARGET, items=list(items), manifest=MANIFEST)


def test_a_patch_of_values_already_live_is_an_empty_diff() -> None:
    same = GitOpsPullRequest(patch=app_patch(resources={"limits": {"memory": "256Mi"}}))
    assert "empty diff" in (no_op_reason(same, manifest=MANIFEST) or "")
    raised = GitOpsPullRequest(patch=app_patch(resources={"limits": {"memory": "512Mi"}}))
    assert no_op_reason(raised, manifest=MANIFEST) is None
    assert no_op_reason(Scale(replicas=2), manifest=MANIFEST) is not None
    assert no_op_reason(Scale(replicas=3), manifest=MANIFEST) is None


def test_already_holds_matches_named_items_by_name_and_nulls_as_absent() -> None:
    assert already_holds(app_patch(env=[{"name": "DB_HOST", "value": "db"}]), MANIFEST)
    assert not already_holds(app_patch(env=[{"name": "DB_HOST", "value": "db2"}]), MANIFEST)
    assert not already_holds(app_patch(env=[{"name": "NEW", "value": "x"}]), MANIFEST)
    assert already_holds(app_patch(command=None), MANIFEST), "deleting an absent key changes nothing"
    assert not already_holds(app_patch(image=None), MANIFEST)
    assert not already_holds({"spec": {"$patch": "replace"}}, MANIFEST), "directives are never nothing"
    assert not already_holds(app_patch(args=["--x"]), MANIFEST)


def test_without_the_live_manifest_a_patch_is_not_called_a_no_op() -> None:
    assert no_op_reason(GitOpsPullRequest(patch=app_patch(image="reg.io/shop/web:2"))) is None


def test_reverting_a_revert_brings_the_fault_back() -> None:
    evidence = _evidence(
        _commit("bbbb2222", 'Revert "cut memory"\n\nThis reverts commit aaaa1111.', "-  128Mi\n+  256Mi"),
        _commit("aaaa1111", "cut memory"),
    )
    reason = no_op_reason(RevertCommit(commit="bbbb2222"), evidence=evidence)
    assert reason is not None and "itself a revert" in reason
    again = no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence)
    assert again is not None and "already reverted by bbbb2222" in again


def test_a_change_back_after_a_reverted_revert_may_be_reverted() -> None:
    evidence = _evidence(
        _commit("cccc3333", 'Revert "Revert "cut memory""\n\nThis reverts commit bbbb2222.'),
        _commit("bbbb2222", 'Revert "cut memory"\n\nThis reverts commit aaaa1111.'),
        _commit("aaaa1111", "cut memory"),
    )
    assert no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence) is None


def test_a_revert_by_git_title_only_is_recognised() -> None:
    evidence = _evidence(_commit("bbbb2222", 'Revert "cut memory"'), _commit("aaaa1111", "cut memory"))
    assert no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence) is not None


def test_a_plain_suspect_commit_is_no_no_op_and_an_empty_one_is() -> None:
    evidence = _evidence(
        _commit("aaaa1111", "cut memory"), _commit("dddd4444", "touch", diff="@@ -1 +1 @@\n x")
    )
    assert no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence) is None
    assert "changes nothing" in (no_op_reason(RevertCommit(commit="dddd4444"), evidence=evidence) or "")
    assert no_op_reason(RevertCommit(commit="ffff0000"), evidence=evidence) is None, "unknown: not judged"


def test_reverting_this_runs_own_change_or_reverting_twice_is_a_no_op() -> None:
    done = [
        {
            "action": "revert_commit",
            "phase": "remediation",
            "what": "revert commit aaaa1111 by pull request",
            "result": {"status": "ok", "detail": ""},
            "undo": {"kind": "revert", "commit": "eeee5555"},
        }
    ]
    evidence = _evidence(_commit("aaaa1111", "cut memory"))
    assert "this run made" in (
        no_op_reason(RevertCommit(commit="eeee5555"), evidence=evidence, done=done) or ""
    )
    assert "already reverted in this run" in (
        no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence, done=done) or ""
    )
    failed = [{**done[0], "result": {"status": "failed", "detail": "conflict"}}]
    assert no_op_reason(RevertCommit(commit="aaaa1111"), evidence=evidence, done=failed) is None


def test_rollback_to_the_current_or_a_failing_revision_is_a_no_op() -> None:
    evidence = _evidence(_revision(3, pods=(2, 2)), _revision(4, pods=(1, 0)), _revision(5, current=True))
    assert "running now" in (no_op_reason(Rollback(revision=5), evidence=evidence) or "")
    assert "failing now" in (no_op_reason(Rollback(revision=4), evidence=evidence) or "")
    assert no_op_reason(Rollback(revision=3), evidence=evidence) is None


def test_a_rollback_whose_restated_fields_are_live_is_an_empty_diff() -> None:
    evidence = _evidence(_revision(3), _revision(5, current=True))
    same = Rollback(revision=3, patch=app_patch(image="reg.io/shop/web:2"))
    assert no_op_reason(same, manifest=MANIFEST, evidence=evidence) is not None
    other = Rollback(revision=3, patch=app_patch(image="reg.io/shop/web:1"))
    assert no_op_reason(other, manifest=MANIFEST, evidence=evidence) is None


def test_a_restart_is_never_an_empty_diff() -> None:
    assert no_op_reason(Restart(), manifest=MANIFEST) is None
