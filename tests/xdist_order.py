"""The order the xdist workers run the tests in: the long ones first, spread over the workers.

`make test` runs `pytest -n 4 --dist worksteal` on two cores. Worksteal hands each worker one
contiguous share of the collected tests and lets a worker that runs dry take the back half of
another's queue. In collection order the long tests (the `e2e` and `slow` markers: whole flows,
replicas, real servers, mostly waiting on a clock, a child or a socket) fell wherever their folder
sorted; `tests/server/ha/` sorted last, so one worker spent the suite's last minute on failover
tests while the others had finished and both cores idled (docs/testing.md, "Seventh round").

Here every module holding a long test is moved, whole (its module fixtures are built once), to the
front of one worker's share, the heaviest first onto the least-loaded share; the other tests keep
their collection order and fill the shares up. Long tests then start at once, side by side, and
overlap the short tests' computing, and the run ends on short tests that stealing balances.

It only reorders: the same tests run, with the same fixtures. It acts only in an xdist worker of a
run with more than one worker (the order must be the same in every worker, and it is: it depends
on the collection alone). A test's weight is only its marker: an `e2e` test counts as 4, a `slow`
test as 2, any other test as 0.05 (rough seconds).
"""

from __future__ import annotations

import os

import pytest

LONG_MARKERS = {"e2e": 4.0, "slow": 2.0}
OTHER_WEIGHT = 0.05


def _weight(item: pytest.Item) -> float:
    return max((w for m, w in LONG_MARKERS.items() if item.get_closest_marker(m)), default=OTHER_WEIGHT)


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def share_sizes(total: int, workers: int) -> list[int]:
    """How many tests worksteal's first round gives each of `workers` (it splits the pending
    tests evenly among the idle workers, one after the other)."""
    sizes = []
    left = total
    for i in range(workers):
        size = left // (workers - i)
        sizes.append(size)
        left -= size
    return sizes


def long_first(items: list[pytest.Item], workers: int) -> list[pytest.Item]:
    """The tests in the order described above: long modules at the fronts of the worker shares."""
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(_module(item), []).append(item)
    long_modules = [m for m, its in modules.items() if any(_weight(i) > OTHER_WEIGHT for i in its)]
    if workers < 2 or not long_modules:
        return items
    weight = {m: sum(_weight(i) for i in modules[m]) for m in long_modules}
    fronts: list[list[pytest.Item]] = [[] for _ in range(workers)]
    loads = [0.0] * workers
    # Heaviest first onto the least-loaded share (longest processing time first); ties by name
    # so that every worker computes the same order.
    for module in sorted(long_modules, key=lambda m: (-weight[m], m)):
        share = loads.index(min(loads))
        fronts[share].extend(modules[module])
        loads[share] += weight[module]
    rest = iter([i for m, its in modules.items() if m not in weight for i in its])
    ordered: list[pytest.Item] = []
    for front, size in zip(fronts, share_sizes(len(items), workers), strict=True):
        ordered.extend(front)
        ordered.extend(item for _, item in zip(range(size - len(front)), rest, strict=False))
    ordered.extend(rest)
    assert len(ordered) == len(items)
    return ordered


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` have deselected: order what will run
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In an xdist worker, put the long tests first, spread over the workers."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if os.environ.get("PYTEST_XDIST_WORKER") and workers > 1:
        items[:] = long_first(items, workers)
