"""Circuit breakers kept in the run store, so every replica sharing the store shares them.

One row per breaker key (a workload's `namespace/kind/name`, or the reasoner's key) holding its
`graph.breaker.BreakerState` as JSON. `update_breaker` reads, transforms and writes a key in one
write transaction under a per-key lock (PostgreSQL advisory lock; SQLite's single write lock), so
two replicas recording an attempt at once both count: no update is lost. `breakers` is the
`graph.breaker.BreakerStore` the healing graph is given.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from graph.breaker import BreakerState
from server.runstore.models import utc_now
from server.runstore.table import Table


class BreakerTable(Table):
    """The run store's circuit breaker states."""

    def breaker_state(self, key: str) -> BreakerState:
        """The state of breaker `key` (closed and empty when never recorded)."""
        with self._db.read() as tx:
            row = tx.one("SELECT state FROM breakers WHERE key = ?", (key,))
        return self._state(row["state"]) if row else BreakerState()

    def update_breaker(self, key: str, change: Callable[[BreakerState], BreakerState]) -> BreakerState:
        """Apply `change` to breaker `key` atomically (one transaction, the key locked); the new state.

        If `change` raises, nothing is written.
        """
        with self._write(f"breaker {key!r}") as tx:
            self._db.lock(tx, f"breaker:{key}")
            row = tx.one(f"SELECT state FROM breakers WHERE key = ?{self._db.for_update}", (key,))
            new = change(self._state(row["state"]) if row else BreakerState())
            tx.execute(
                "INSERT INTO breakers (key, state, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                (key, self._db.json_param(json.loads(new.to_json())), self._db.ts_param(utc_now())),
            )
        return new

    @property
    def breakers(self) -> StoredBreakers:
        """These states as the `graph.breaker.BreakerStore` the healing graph takes."""
        return StoredBreakers(self)

    def _state(self, raw: object) -> BreakerState:
        return BreakerState.from_json(json.dumps(self._db.json_value(raw)))


@dataclass(frozen=True)
class StoredBreakers:
    """`graph.breaker.BreakerStore` over the run store's breaker table."""

    table: BreakerTable

    def get(self, key: str) -> BreakerState:
        """The state for `key` (closed and empty when unseen)."""
        return self.table.breaker_state(key)

    def update(self, key: str, change: Callable[[BreakerState], BreakerState]) -> BreakerState:
        """Apply `change` to the state of `key` atomically; return the new state."""
        return self.table.update_breaker(key, change)
