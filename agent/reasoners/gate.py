"""How LLM callers talk to the LLM breaker: ask before calling, report failures and successes.

The breaker itself (state, policy, store) lives in the graph; the reasoners only hold this gate, so
they stay testable without one. Only LLM failures are reported: a rules answer never touches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from agent.reasoners.base import ReasonerError


def _always() -> bool:
    return True


def _ignore_error(_: ReasonerError) -> None:
    return None


def _ignore() -> None:
    return None


@dataclass(frozen=True)
class LLMGate:
    """`allowed()` before an LLM call; `failed(error)` or `succeeded()` after it."""

    allowed: Callable[[], bool] = _always
    failed: Callable[[ReasonerError], None] = _ignore_error
    succeeded: Callable[[], None] = _ignore


OPEN_GATE = LLMGate()
