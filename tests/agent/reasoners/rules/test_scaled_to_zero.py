"""scaled_to_zero: scale back to the previous count, revert the commit that set zero, or ask."""

from __future__ import annotations

from agent.domain import ActionType, EvidenceKind, RootCause, Scale
from tests.agent import evidence_samples as s


def test_scaled_to_zero_scales_back_to_the_previous_count(diagnose) -> None:
    d = diagnose(s.scaled_to_zero())
    assert d.category is RootCause.SCALED_TO_ZERO and d.confidence == 0.9
    assert d.remediation.action is ActionType.SCALE
    assert isinstance(d.remediation, Scale) and d.remediation.replicas == 3
    assert "event:1" in d.cited_evidence


def test_scaled_to_zero_by_a_commit_reverts_it(diagnose) -> None:
    ev = s.scaled_to_zero()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.EVENT]
    ev.items.append(
        s.commit(
            "5ca1ed0000000000000000000000000000000000",
            "save costs",
            "--- a/d.yaml\n+++ b/d.yaml\n@@ -6 +6 @@\n-  replicas: 3\n+  replicas: 0\n",
            ["d.yaml"],
        )
    )
    d = diagnose(ev)
    assert d.category is RootCause.SCALED_TO_ZERO
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.commit == "5ca1ed0000000000000000000000000000000000"
    assert d.remediation.notes == {"replicas": 3}


def test_scaled_to_zero_without_a_known_count_asks(diagnose) -> None:
    ev = s.scaled_to_zero()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.EVENT]
    d = diagnose(ev)
    assert d.category is RootCause.SCALED_TO_ZERO and d.confidence == 0.6
    assert d.remediation.action is ActionType.NOTIFY
