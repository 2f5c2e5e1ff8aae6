"""The xdist order: long modules whole at the fronts of the worker shares, nothing lost or doubled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import pytest

from tests.xdist_order import long_first, share_sizes


@dataclass
class FakeItem:
    """What the ordering reads of a pytest item: its node id and its markers."""

    nodeid: str
    markers: set[str] = field(default_factory=set)

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None


def _order(items: list[FakeItem], workers: int) -> list[FakeItem]:
    return cast(list[FakeItem], long_first(cast(list[pytest.Item], items), workers))


def _items(spec: dict[str, list[set[str]]]) -> list[FakeItem]:
    return [
        FakeItem(f"{module}::t{i}", marks) for module, tests in spec.items() for i, marks in enumerate(tests)
    ]


def test_share_sizes_are_worksteals_first_round() -> None:
    assert share_sizes(10, 4) == [2, 2, 3, 3]
    assert share_sizes(3244, 4) == [811, 811, 811, 811]
    assert sum(share_sizes(7, 3)) == 7


def test_long_modules_go_whole_to_the_fronts_of_the_shares_heaviest_first() -> None:
    items = _items(
        {
            "a.py": [set()] * 6,
            "ha.py": [{"e2e"}, {"e2e"}, set()],  # weight 8.05
            "b.py": [set()] * 6,
            "fidelity.py": [{"slow"}] * 3,  # 6
            "subset.py": [{"e2e"}],  # 4
            "c.py": [set()] * 6,
        }
    )
    ordered = _order(items, workers=2)
    assert sorted(i.nodeid for i in ordered) == sorted(i.nodeid for i in items), "same tests, once each"
    ids = [i.nodeid for i in ordered]
    share0, share1 = ids[:12], ids[12:]
    # ha.py (8.05) to share 0, fidelity.py (6) to share 1, then subset.py (4) to share 1 (6 < 8.05)
    assert share0[:3] == ["ha.py::t0", "ha.py::t1", "ha.py::t2"]
    assert share1[:4] == ["fidelity.py::t0", "fidelity.py::t1", "fidelity.py::t2", "subset.py::t0"]
    # the short tests keep their collection order, filling share 0 first
    short = [i for i in ids if i.split("::")[0] in ("a.py", "b.py", "c.py")]
    assert short == [i.nodeid for i in items if i.nodeid.split("::")[0] in ("a.py", "b.py", "c.py")]
    assert share0[3:] == short[:9]


def test_without_workers_or_long_tests_the_order_is_untouched() -> None:
    items = _items({"a.py": [{"e2e"}, set()], "b.py": [set()]})
    assert _order(items, workers=1) == items
    plain = _items({"a.py": [set(), set()], "b.py": [set()]})
    assert _order(plain, workers=4) == plain


def test_more_long_tests_than_a_share_holds_spill_over_without_loss() -> None:
    items = _items({"x.py": [{"e2e"}] * 5, "y.py": [set()] * 3})
    ordered = _order(items, workers=4)
    assert [i.nodeid for i in ordered] == [i.nodeid for i in items]  # x.py first already, all kept


@pytest.mark.parametrize("workers", [2, 3, 4, 6])
def test_the_order_depends_on_the_collection_alone(workers: int) -> None:
    spec = {f"m{n}.py": [{"slow"}] * (n % 3) + [set()] * 4 for n in range(12)}
    first = [i.nodeid for i in _order(_items(spec), workers)]
    again = [i.nodeid for i in _order(_items(spec), workers)]
    assert first == again and len(first) == len(set(first)) == sum(len(t) for t in spec.values())
