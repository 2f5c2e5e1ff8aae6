"""Test contexts for the healing graph's nodes and routes: a `HealingContext` with harmless defaults.

`healing_context(...)` fills what a test does not care about (the rules reasoner, a gatherer that
finds nothing, in-memory breakers, an emitter that keeps nothing); `call(node, state, context)`
runs one node or route the way LangGraph does, with the context in its `Runtime`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langgraph.runtime import Runtime

from agent.domain import Evidence, WorkloadRef
from agent.reasoners.rules import RulesReasoner
from graph.breaker import BreakerPolicy, CircuitBreaker, InMemoryBreakerStore
from graph.context import Breakers, HealingContext
from graph.state import HealingState
from tools.result import TraceSink


def breaker(
    limit: int = 3, window: float = 600, cooldown: float = 300, now: float = 1000.0
) -> CircuitBreaker:
    """A breaker over its own in-memory store, at a fixed time."""
    return CircuitBreaker(InMemoryBreakerStore(), BreakerPolicy(limit, window, cooldown), lambda: now)


def nothing_gathered(target: WorkloadRef, sink: TraceSink) -> Evidence:
    """A gatherer that finds no evidence at all."""
    return Evidence(target=target)


def healing_context(**fields: Any) -> HealingContext:
    """A context with the defaults above; keyword arguments set any `HealingContext` field."""
    fields.setdefault("reasoner", RulesReasoner())
    fields.setdefault("gather", nothing_gathered)
    fields.setdefault("breakers", Breakers(breaker(), breaker()))
    fields.setdefault("emit", lambda event: None)
    return HealingContext(**fields)


def call(node: Callable[..., Any], state: HealingState, context: HealingContext) -> Any:
    """Run a node (or a route taking the runtime) on `state` with `context`, as the graph would."""
    return node(state, Runtime(context=context))


def bound(node: Callable[..., Any], context: HealingContext) -> Callable[[HealingState], Any]:
    """`node` with `context` bound: a function of state alone, the way a test calls it."""

    def run(state: HealingState) -> Any:
        return call(node, state, context)

    return run
