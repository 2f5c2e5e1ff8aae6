"""node_pressure: the node blamed and humans told."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s


def test_node_pressure_notifies_and_blames_the_node(diagnose) -> None:
    d = diagnose(s.node_pressure())
    assert d.category is RootCause.NODE_PRESSURE and d.confidence == 0.9
    assert d.faulty_resource == "Node node-b"
    assert d.remediation.action is ActionType.NOTIFY
