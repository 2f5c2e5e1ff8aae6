"""This replica's side of run ownership: claim a run before driving it, keep the claims alive,
stop before acting on a run another replica took over, and find runs whose owner is gone.

The claims live in the run store (`server.runstore.claim_table`), so every replica sees them.
Liveness is wall-clock time (the sandbox's simulated clock is for the cluster, not for
replicas): a claim whose heartbeat is older than `timeout` belongs to a replica that is gone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from server.runstore import RunStore
from server.runstore.models import RunRecord

log = logging.getLogger(__name__)


def wall_clock() -> datetime:
    """Now, in UTC, by the machine's clock."""
    return datetime.now(UTC)


class OwnershipLost(RuntimeError):
    """Another replica took this run over: this process must not change anything for it."""


class RunOwnership:
    """Claims held by one replica (`identity`), and the fence its graph nodes call before acting."""

    def __init__(
        self,
        store: RunStore,
        identity: str,
        *,
        timeout: float = 20.0,
        clock: Callable[[], datetime] = wall_clock,
    ) -> None:
        self.identity = identity
        self._store = store
        self._timeout = timedelta(seconds=timeout)
        self._clock = clock
        self._lock = threading.Lock()
        self._epochs: dict[str, int] = {}  # run id -> the epoch of our claim

    def _stale_before(self, now: datetime) -> datetime:
        return now - self._timeout

    def claim(self, run_id: str) -> bool:
        """Take or keep the run; False when a live replica owns it."""
        now = self._clock()
        claim = self._store.claim_run(run_id, self.identity, now, self._stale_before(now))
        if claim is None:
            return False
        with self._lock:
            previous = self._epochs.get(run_id)
            self._epochs[run_id] = claim.epoch
        if previous is None and claim.epoch > 1:
            log.info("run %s adopted by %s (claim epoch %d)", run_id, self.identity, claim.epoch)
        return True

    def owns(self, run_id: str) -> bool:
        """Whether this replica believes it holds the run (no store read)."""
        with self._lock:
            return run_id in self._epochs

    def guard(self, run_id: str) -> None:
        """Raise `OwnershipLost` unless the store still shows our claim on the run, unchanged.

        The graph calls this right before a change to the cluster or Git: a replica that was
        paused past its timeout and woke up finds its run adopted and stops before acting twice.
        """
        with self._lock:
            epoch = self._epochs.get(run_id)
        if epoch is None or not self._store.holds_claim(run_id, self.identity, epoch):
            with self._lock:
                self._epochs.pop(run_id, None)
            raise OwnershipLost(f"run {run_id} is no longer owned by {self.identity}")

    def release(self, run_id: str) -> None:
        """Give the run up (it ended); the store forgets our claim."""
        with self._lock:
            self._epochs.pop(run_id, None)
        self._store.release_claim(run_id, self.identity)

    def release_all(self) -> None:
        """Give up every claim (a clean shutdown): the leader adopts them at once, not after the timeout."""
        with self._lock:
            held = list(self._epochs)
            self._epochs.clear()
        for run_id in held:
            try:
                self._store.release_claim(run_id, self.identity)
            except Exception:  # the store is going away too; the claim then times out
                log.exception("releasing the claim on run %s failed", run_id)

    def heartbeat(self) -> int:
        """Tell the store we are alive: every claim we hold is refreshed; how many."""
        return self._store.heartbeat(self.identity, self._clock())

    def orphans(self) -> list[RunRecord]:
        """Active runs without a live owner (never claimed, or their owner went silent)."""
        return self._store.orphaned_runs(self._stale_before(self._clock()))

    def take_answers(self) -> list[tuple[str, dict[str, Any]]]:
        """Approval answers other replicas received for runs we own."""
        return self._store.take_answers(self.identity)

    def post_answer(self, run_id: str, answer: dict[str, Any]) -> None:
        """Hand an answer to whoever owns the run."""
        self._store.post_answer(run_id, answer, self._clock())
