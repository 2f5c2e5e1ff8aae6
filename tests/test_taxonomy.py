"""The reasoners' root-cause taxonomy is the sandbox fault catalogue's, plus `unknown`.

The two enums live apart on purpose (the sandbox imports nothing of the product), so this test
is what keeps them in step.
"""

from __future__ import annotations

from agent.domain import RootCause
from sandbox.faults import FAULT_TYPES, FaultCategory


def test_root_causes_are_the_fault_categories_plus_unknown() -> None:
    assert {c.value for c in RootCause} == {c.value for c in FaultCategory} | {"unknown"}


def test_every_category_has_an_injectable_fault() -> None:
    assert {ft.category.value for ft in FAULT_TYPES.values()} == {c.value for c in FaultCategory}
