"""node_pressure: the node blamed and humans told."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from tests.agent import evidence_samples as s


def test_node_pressure_notifies_and_blames_the_node(diagnose) -> None:
    d = diagnose(s.node_pressure())
    assert d.category is RootCause.NODE_PRESSURE and d.confidence == 0.9
    assert d.faulty_resource == "Node node-b"
    assert d.faulty_field == "status.conditions[MemoryPressure].status"
    assert d.remediation.action is ActionType.NOTIFY


def test_the_condition_is_named_from_the_eviction_message_when_the_node_is_not_seen() -> None:
    from agent.reasoners.rules.node_pressure import _condition

    assert _condition(["memory"]) == "MemoryPressure"
    assert _condition(["ephemeral-storage"]) == "DiskPressure"
    assert _condition(["DiskPressure"]) == "DiskPressure"
    assert _condition(["MemoryPressure", "DiskPressure"]) is None  # two pressures: no one field
    assert _condition([]) is None
