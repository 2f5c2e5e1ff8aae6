"""The resource registry: by_kind and all() follow every add and remove (their views are cached)."""

from __future__ import annotations

from sandbox.resources import DEPLOYMENTS, Registry
from sandbox.store import ResourceType

WIDGETS_V1 = ResourceType("example.com", "v1", "Widget", "widgets")
WIDGETS_V2 = ResourceType("example.com", "v2", "Widget", "widgets")


def test_by_kind_and_all_follow_adds_and_removes() -> None:
    registry = Registry.with_builtins()
    assert registry.by_kind("apps", "Deployment") == DEPLOYMENTS
    assert registry.by_kind("example.com", "Widget") is None
    before = registry.all()
    registry.add(WIDGETS_V1)
    assert registry.by_kind("example.com", "Widget") == WIDGETS_V1
    assert registry.all() == sorted([*before, WIDGETS_V1], key=lambda t: (t.group, t.version, t.plural))
    registry.add(WIDGETS_V2)
    assert registry.by_kind("example.com", "Widget") == WIDGETS_V1, "the first served version, as before"
    registry.remove("example.com", "v1", "widgets")
    assert registry.by_kind("example.com", "Widget") == WIDGETS_V2
    registry.remove("example.com", "v2", "widgets")
    assert registry.by_kind("example.com", "Widget") is None and registry.all() == before


def test_all_hands_out_a_copy() -> None:
    registry = Registry.with_builtins()
    registry.all().clear()
    assert registry.all(), "a caller changing the list it got does not change the registry"
