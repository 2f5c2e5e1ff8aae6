"""missing_config_key: the commit that dropped the key reverted."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s


def test_missing_config_key_reverts_the_commit_that_dropped_it(diagnose) -> None:
    d = diagnose(s.missing_config_key())
    assert d.category is RootCause.MISSING_CONFIG_KEY and d.confidence == 0.9
    assert d.faulty_resource == "ConfigMap shop/web-api-config"
    assert d.faulty_field == "data.FEATURE_FLAGS"
    assert d.remediation.action is ActionType.REVERT_COMMIT
