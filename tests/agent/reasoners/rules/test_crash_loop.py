"""crash_loop: a crash loop without a known signature is unknown at low confidence."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s


def test_generic_crash_loop_is_unknown_at_low_confidence(diagnose) -> None:
    d = diagnose(s.generic_crash())
    assert d.category is RootCause.UNKNOWN and d.confidence == 0.3
    assert d.remediation.action is ActionType.NOTIFY
