"""An unsatisfiable nodeSelector / affinity: repaired from the labels nodes really have, restored from
the revision that worked, or escalated with those labels; never neither action nor escalation."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s

_pending = s.unsatisfiable_selector


def test_a_near_miss_is_patched_to_the_value_nodes_carry(diagnose) -> None:
    d = diagnose(_pending({"disktype": "SSD"}))
    assert d.category is RootCause.UNSCHEDULABLE and d.confidence >= 0.8
    assert d.faulty_field == "spec.template.spec.nodeSelector.disktype"
    assert d.remediation.action is ActionType.GITOPS_PR
    assert d.remediation.patch == {"spec": {"template": {"spec": {"nodeSelector": {"disktype": "ssd"}}}}}


def test_a_label_no_node_has_is_escalated_with_the_labels_nodes_have(diagnose) -> None:
    d = diagnose(_pending({"accelerator": "nvidia-a100"}))
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.faulty_field == "spec.template.spec.nodeSelector.accelerator"
    assert d.remediation.action is ActionType.NOTIFY
    assert "accelerator" in d.remediation.rationale and "node-a" in d.remediation.rationale


def test_the_selector_of_the_revision_that_worked_is_restored(diagnose) -> None:
    good = {"disktype": "ssd"}
    bad = {"disktype": "nvme"}
    old, new = s.container(), s.container()
    d = diagnose(
        _pending(
            bad,
            s.rollout(6, [old], pods=(2, 2), nodeSelector=good),
            s.rollout(7, [new], current=True, pods=(1, 0), nodeSelector=bad),
        )
    )
    assert d.remediation.action is ActionType.GITOPS_PR
    assert d.remediation.patch["spec"]["template"]["spec"]["nodeSelector"] == {"disktype": "ssd"}
    assert "rollout:6" in d.cited_evidence


def test_an_ambiguous_near_miss_is_not_guessed(diagnose) -> None:
    d = diagnose(_pending({"zone": "eu-1"}))
    assert d.remediation.action is ActionType.NOTIFY, "eu-1a, eu-1b and eu-1c are all one edit away"


def test_required_node_affinity_is_escalated_with_the_labels(diagnose) -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["nvme"]}]}
                ]
            }
        }
    }
    d = diagnose(_pending(None, affinity=affinity))
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.remediation.action is ActionType.NOTIFY
    assert "disktype=ssd" in d.remediation.rationale
    assert d.faulty_field == "spec.template.spec.affinity"


def test_without_the_nodes_a_selector_mismatch_still_escalates(diagnose) -> None:
    d = diagnose(_pending({"disktype": "SSD"}, nodes=False))
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.remediation is not None and d.remediation.action in (ActionType.NOTIFY, ActionType.GITOPS_PR)


SELECTOR_COMMIT = (
    "--- a/apps/web-api/deployment.yaml\n+++ b/apps/web-api/deployment.yaml\n@@ -20,0 +21,2 @@\n"
    "+      nodeSelector:\n+        storage-tier: nvme\n"
)


def test_a_commit_that_only_added_the_selector_is_reverted(diagnose) -> None:
    sha = "5e1ec7000000000000000000000000000000000a"
    commit = s.commit(sha, "pin to the fast disks", SELECTOR_COMMIT, ["apps/web-api/deployment.yaml"])
    d = diagnose(_pending({"storage-tier": "nvme"}, commit))
    assert d.category is RootCause.UNSCHEDULABLE and d.confidence >= 0.8
    assert d.remediation.action is ActionType.REVERT_COMMIT and d.remediation.commit == sha
    assert d.faulty_field == "spec.template.spec.nodeSelector.storage-tier"


def test_a_commit_that_changed_more_than_the_selector_is_not_reverted(diagnose) -> None:
    diff = SELECTOR_COMMIT + "-        image: web-api:1.4.1\n+        image: web-api:1.5.0\n"
    commit = s.commit(
        "5e1ec7000000000000000000000000000000000b", "bump", diff, ["apps/web-api/deployment.yaml"]
    )
    d = diagnose(_pending({"storage-tier": "nvme"}, commit))
    assert d.remediation.action is not ActionType.REVERT_COMMIT
