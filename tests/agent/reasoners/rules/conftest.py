"""Fixtures for the rules' tests: `diagnose(evidence, **reasoner_kwargs)` on the sample incident."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agent.domain import Diagnosis, Evidence
from agent.reasoners.rules import RulesReasoner
from tests.agent import evidence_samples as s


@pytest.fixture
def diagnose() -> Callable[..., Diagnosis]:
    """The rules reasoner's diagnosis of `evidence` about shop/web-api (kwargs go to `RulesReasoner`)."""

    def run(evidence: Evidence, **kwargs: Any) -> Diagnosis:
        return RulesReasoner(**kwargs).diagnose(s.incident(), evidence).diagnosis

    return run
