"""oom: the memory limit raised by a GitOps PR, or the commit that lowered it reverted."""

from __future__ import annotations

from agent.domain import ActionType, EvidenceKind, RootCause
from agent.reasoners.rules import RulesPolicy
from tests.agent import evidence_samples as s


def test_oom_raises_memory_limit_by_gitops_pr(diagnose) -> None:
    d = diagnose(s.oom())
    assert d.category is RootCause.OOM
    assert d.confidence == 0.95
    assert d.faulty_field == "spec.template.spec.containers[app].resources.limits.memory"
    assert d.remediation.action is ActionType.GITOPS_PR
    assert d.remediation.patch == {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}
            }
        }
    }
    assert {"status:pod/web-api-7d9f8c6b5-x2k4p", "metric:container_memory_working_set_bytes:app"} <= set(
        d.cited_evidence
    )


def test_oom_after_a_commit_that_lowered_memory_reverts_that_commit(diagnose) -> None:
    sha = "ab12" * 10
    head = "--- a/apps/web-api.yaml\n+++ b/apps/web-api.yaml\n"
    lowered = head + "-            memory: 256Mi\n+            memory: 64Mi\n"
    raised = head + "-            memory: 128Mi\n+            memory: 256Mi\n"
    ev = s.oom()
    ev.items.append(s.commit(sha, "trim memory", lowered, ["apps/web-api.yaml"]))
    d = diagnose(ev)
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.commit == sha and f"commit:{sha[:12]}" in d.cited_evidence
    other = s.oom()
    other.items.append(s.commit(sha, "more memory", raised, ["apps/web-api.yaml"]))
    assert diagnose(other).remediation.action is ActionType.GITOPS_PR  # a raise is not the cause


def test_oom_without_metric_is_less_sure_and_limit_is_capped(diagnose) -> None:
    ev = s.oom()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.METRIC]
    d = diagnose(ev, policy=RulesPolicy(memory_cap_bytes=384 * 2**20))
    assert d.category is RootCause.OOM and d.confidence == 0.9
    assert d.remediation.notes["new"] == "384Mi"


def test_oom_at_cap_only_notifies(diagnose) -> None:
    d = diagnose(s.oom(), policy=RulesPolicy(memory_cap_bytes=256 * 2**20))
    assert d.category is RootCause.OOM
    assert d.remediation.action is ActionType.NOTIFY
