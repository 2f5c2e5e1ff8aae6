"""bad_image: roll back to the previous image, or revert the commit that changed it."""

from __future__ import annotations

from agent.domain import ActionType, Rollback, RootCause
from tests.agent import evidence_samples as s


def test_bad_image_rolls_back_to_previous_revision(diagnose) -> None:
    d = diagnose(s.bad_image())
    assert d.category is RootCause.BAD_IMAGE and d.confidence == 0.9
    assert d.remediation.action is ActionType.ROLLBACK
    assert isinstance(d.remediation, Rollback) and d.remediation.revision == 3
    assert (
        d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["image"]
        == "ghcr.io/acme/web-api:1.4.2"
    )
    assert "rollout:3" in d.cited_evidence and "event:1" in d.cited_evidence


def test_bad_image_reverts_the_commit_that_changed_the_image(diagnose) -> None:
    d = diagnose(s.bad_image_with_commit())
    assert d.category is RootCause.BAD_IMAGE
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.commit == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    assert "commit:a1b2c3d4e5f6" in d.cited_evidence
