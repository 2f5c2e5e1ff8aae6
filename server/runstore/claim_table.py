"""Run ownership across replicas: who drives a run, its heartbeat, and answers waiting for its owner.

A replica claims a run before driving it (`claim_run`: a conditional upsert, atomic on both
databases) and refreshes the heartbeat of everything it owns (`heartbeat`). A claim whose
heartbeat is older than the caller's `stale_before` belongs to a replica that is gone: anyone
may take it over, and each takeover bumps the claim's `epoch`, so the previous owner, should it
wake up (a long GC pause, a partitioned node), sees with `holds_claim` that the run is no longer
its own before it changes anything. Approvals posted to a replica that does not own the run wait
in `run_inbox` until the owner takes them (`take_answers`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.runstore import rows
from server.runstore.errors import UnknownRunError
from server.runstore.models import ACTIVE_STATUSES, RunRecord
from server.runstore.table import Table

_CLAIM_SELECT = "SELECT run_id, owner, epoch, heartbeat_at FROM run_claims"


@dataclass(frozen=True)
class Claim:
    """Who owns a run, since when, their last heartbeat, and how many owners it had."""

    run_id: str
    owner: str
    epoch: int
    heartbeat_at: datetime


class ClaimTable(Table):
    """The run store's run claims and owner inboxes."""

    def claim_run(self, run_id: str, owner: str, now: datetime, stale_before: datetime) -> Claim | None:
        """Take (or keep) `run_id` for `owner`; the claim, or None when a live replica owns it.

        The claim succeeds when the run is unclaimed, already `owner`'s, or its owner's last
        heartbeat is older than `stale_before`. One statement: two replicas racing for a run
        cannot both win, on SQLite (one writer) or PostgreSQL (the upsert locks the row).
        """
        at, stale = self._db.ts_param(now), self._db.ts_param(stale_before)
        with self._write(f"claim of run {run_id!r}") as tx:
            if tx.one("SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
                raise UnknownRunError(run_id)
            row = tx.one(
                "INSERT INTO run_claims (run_id, owner, epoch, claimed_at, heartbeat_at)"
                " VALUES (?, ?, 1, ?, ?)"
                " ON CONFLICT (run_id) DO UPDATE SET"
                " epoch = CASE WHEN run_claims.owner = excluded.owner THEN run_claims.epoch"
                " ELSE run_claims.epoch + 1 END,"
                " claimed_at = CASE WHEN run_claims.owner = excluded.owner THEN run_claims.claimed_at"
                " ELSE excluded.claimed_at END,"
                " owner = excluded.owner, heartbeat_at = excluded.heartbeat_at"
                " WHERE run_claims.owner = excluded.owner OR run_claims.heartbeat_at < ?"
                " RETURNING run_id, owner, epoch, heartbeat_at",
                (run_id, owner, at, at, stale),
            )
        return None if row is None else self._claim(row)

    def run_claim(self, run_id: str) -> Claim | None:
        """The run's claim, if anyone ever claimed it."""
        with self._db.read() as tx:
            row = tx.one(f"{_CLAIM_SELECT} WHERE run_id = ?", (run_id,))
        return None if row is None else self._claim(row)

    def holds_claim(self, run_id: str, owner: str, epoch: int) -> bool:
        """Whether `owner` still holds the claim it took at `epoch` (nobody took the run over since)."""
        claim = self.run_claim(run_id)
        return claim is not None and claim.owner == owner and claim.epoch == epoch

    def heartbeat(self, owner: str, now: datetime) -> int:
        """Refresh the heartbeat of every claim `owner` holds; how many it holds."""
        with self._write(f"heartbeat of {owner!r}") as tx:
            return tx.execute(
                "UPDATE run_claims SET heartbeat_at = ? WHERE owner = ?", (self._db.ts_param(now), owner)
            )

    def release_claim(self, run_id: str, owner: str) -> bool:
        """Give up `owner`'s claim on a run (it ended, or the replica shuts down); whether it held one."""
        with self._write(f"claim of run {run_id!r}") as tx:
            return tx.execute("DELETE FROM run_claims WHERE run_id = ? AND owner = ?", (run_id, owner)) > 0

    def orphaned_runs(self, stale_before: datetime, limit: int = 100) -> list[RunRecord]:
        """Active runs nobody live owns: never claimed, or last heartbeat older than `stale_before`."""
        placeholders = ", ".join("?" for _ in ACTIVE_STATUSES)
        with self._db.read() as tx:
            found = tx.all(
                f"SELECT {', '.join('r.' + c.strip() for c in rows.RUN_COLUMNS.split(','))} FROM runs r"
                " LEFT JOIN run_claims c ON c.run_id = r.id"
                f" WHERE r.status IN ({placeholders}) AND (c.run_id IS NULL OR c.heartbeat_at < ?)"
                " ORDER BY r.created_at, r.id LIMIT ?",
                (*sorted(s.value for s in ACTIVE_STATUSES), self._db.ts_param(stale_before), limit),
            )
        return [rows.run_of(self._db, row) for row in found]

    def post_answer(self, run_id: str, answer: dict[str, Any], now: datetime) -> None:
        """Leave an approval answer for the run's owner (another replica) to take."""
        with self._write(f"answer for run {run_id!r}") as tx:
            if tx.one("SELECT id FROM runs WHERE id = ?", (run_id,)) is None:
                raise UnknownRunError(run_id)
            tx.execute(
                "INSERT INTO run_inbox (run_id, answer, posted_at) VALUES (?, ?, ?)",
                (run_id, self._db.json_param(answer), self._db.ts_param(now)),
            )
            self._db.announce(tx, f"answer:{run_id}")
        self._signal.publish()

    def take_answers(self, owner: str) -> list[tuple[str, dict[str, Any]]]:
        """Remove and return, oldest first, the answers waiting for runs `owner` holds."""
        with self._write(f"answers for {owner!r}") as tx:
            found = tx.all(
                "SELECT i.id, i.run_id, i.answer FROM run_inbox i JOIN run_claims c ON c.run_id = i.run_id"
                f" WHERE c.owner = ? ORDER BY i.id{self._db.for_update}",
                (owner,),
            )
            for row in found:
                tx.execute("DELETE FROM run_inbox WHERE id = ?", (row["id"],))
        return [(row["run_id"], self._db.json_value(row["answer"])) for row in found]

    def _claim(self, row: dict[str, Any]) -> Claim:
        return Claim(
            run_id=row["run_id"],
            owner=row["owner"],
            epoch=int(row["epoch"]),
            heartbeat_at=self._db.ts_value(row["heartbeat_at"]),
        )
