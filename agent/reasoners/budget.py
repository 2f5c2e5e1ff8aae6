"""What one LLM investigation may spend, and the meter that says when it has spent it.

Turns (model requests, retries and the final answer included), tool calls, tokens (input plus
output, as the provider reports them, or estimated when it does not) and wall time. The meter is
read before every request: a spent budget ends the investigation with category `unknown`, which
the decision escalates with the partial trace. The prompt window is not a budget but a ceiling:
no request grows past it (tool results stop being added), so Ollama's `num_ctx` always holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.config import LLMSettings

ANSWER_RESERVE_TOKENS = 1_500  # room left in the window for the schema and the structured answer


class BudgetSpent(Exception):
    """The investigation ran out of a budget; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoopBudget:
    """The limits of one investigation."""

    max_turns: int = 10
    max_tool_calls: int = 8
    max_tokens: int = 60_000
    max_wall_seconds: float = 180.0
    prompt_window: int = 16_384
    opening_tokens: int = 3_000
    oneshot_tokens: int = 6_000
    retries: int = 0  # transient failures of one request (timeouts, 5xx) retried by the loop

    def __post_init__(self) -> None:
        if self.max_turns < 1 or self.max_tool_calls < 0 or self.max_tokens < 1 or self.retries < 0:
            raise ValueError("max_turns and max_tokens must be positive, max_tool_calls and retries >= 0")
        if self.max_wall_seconds <= 0:
            raise ValueError("max_wall_seconds must be positive")
        if self.prompt_window < 2 * ANSWER_RESERVE_TOKENS:
            raise ValueError(f"the prompt window must be at least {2 * ANSWER_RESERVE_TOKENS} tokens")

    @classmethod
    def from_settings(cls, settings: LLMSettings, *, retries: int | None = None) -> LoopBudget:
        """The budget the settings describe (`retries`: those the loop does itself)."""
        return cls(
            max_turns=settings.max_turns,
            max_tool_calls=settings.max_tool_calls,
            max_tokens=settings.max_tokens,
            max_wall_seconds=settings.max_wall_seconds,
            prompt_window=settings.prompt_window(),
            opening_tokens=settings.opening_tokens,
            oneshot_tokens=settings.oneshot_tokens,
            retries=settings.max_retries if retries is None else retries,
        )

    def bundle_tokens(self, with_tools: bool) -> int:
        """The opening evidence's budget, never more than the window leaves room for."""
        wanted = self.opening_tokens if with_tools else self.oneshot_tokens
        return max(500, min(wanted, self.prompt_window - 2 * ANSWER_RESERVE_TOKENS))


@dataclass
class Meter:
    """What one investigation has spent so far."""

    budget: LoopBudget
    clock: Callable[[], float] = time.monotonic
    turns: int = 0
    tool_calls: int = 0
    tokens: int = 0
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def elapsed(self) -> float:
        """Seconds since the investigation began."""
        return self.clock() - self.started

    def remaining_seconds(self) -> float:
        """Wall time left (may be negative)."""
        return self.budget.max_wall_seconds - self.elapsed()

    def spent(self) -> str | None:
        """Why no further request may be made, or None."""
        b = self.budget
        if self.turns >= b.max_turns:
            return f"{self.turns} model turns, the limit is {b.max_turns}"
        if self.tokens >= b.max_tokens:
            return f"{self.tokens} tokens, the limit is {b.max_tokens}"
        if self.remaining_seconds() <= 0:
            return f"{self.elapsed():.0f}s of wall time, the limit is {b.max_wall_seconds:.0f}s"
        return None

    def check(self) -> None:
        """Raise `BudgetSpent` when no further request may be made."""
        reason = self.spent()
        if reason is not None:
            raise BudgetSpent(reason)

    @property
    def tool_calls_left(self) -> int:
        """Tool calls still allowed."""
        return max(0, self.budget.max_tool_calls - self.tool_calls)

    def snapshot(self) -> dict[str, float | int]:
        """The meter for the trace."""
        return {"turns": self.turns, "tool_calls": self.tool_calls, "tokens": self.tokens,
                "seconds": round(self.elapsed(), 1)}  # fmt: skip
