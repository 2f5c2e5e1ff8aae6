"""The registry: one rule per fault cause, found in the module named after its RootCause."""

from __future__ import annotations

from agent.domain import RootCause
from agent.reasoners.rules import CATALOGUE


def test_every_cause_has_one_rule_in_the_module_named_after_it() -> None:
    causes = {c.value for c in RootCause if c is not RootCause.UNKNOWN}
    by_module = {rule.__module__.rsplit(".", 1)[-1]: rule.__name__ for rule in CATALOGUE}
    assert causes <= set(by_module)
    assert all(by_module[cause] == cause for cause in causes)
    assert set(by_module) - causes == {"crash_loop"}  # the generic fallback, category unknown
    assert CATALOGUE[-1].__name__ == "crash_loop"  # the fallback is listed last
