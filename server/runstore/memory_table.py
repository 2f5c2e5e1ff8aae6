"""Incident memory: one row per finished run, found again by full-text rank and signature overlap.

Full text is the database's own: an FTS5 table kept in step with `incident_memory` in SQLite, a
generated `tsvector` column with a GIN index in PostgreSQL. The database returns the best
`CANDIDATES` matches of the query's words; `graph.memory.scoring` then scores each by signature
overlap and relative rank.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from agent.domain import WorkloadRef
from graph.memory import (
    FixHistory,
    IncidentSignature,
    MemoryOutcome,
    SimilarIncident,
    describe_fix,
)
from graph.memory.scoring import combined_score, search_terms, track_record
from server.runstore.backend import Row, Tx
from server.runstore.errors import InvalidInputError
from server.runstore.memory_models import MemoryEntry, RecurringIncident
from server.runstore.models import utc_now
from server.runstore.table import Table, equal_to

CANDIDATES = 50
# Below this, two incidents share little more than a generic reason (BackOff): not similar.
MIN_SCORE = 0.45
HISTORY_ROWS = 500
_COLUMNS = "run_id, recorded_at, namespace, kind, name, category, fix_kind, outcome, signature, summary"
_SELECT = f"SELECT {_COLUMNS} FROM incident_memory"


def outcome_phrase(outcome: MemoryOutcome, fix_kind: str | None) -> str:
    """How a remembered incident ended, in words: "healed by changing the memory limit by pull request"."""
    fix = describe_fix(fix_kind)
    phrases = {
        MemoryOutcome.HEALED: f"healed by {fix}",
        MemoryOutcome.FAILED: f"not healed by {fix}",
        MemoryOutcome.ROLLED_BACK: f"{fix} failed and was rolled back",
        MemoryOutcome.REJECTED: f"a human rejected {fix}",
        MemoryOutcome.ESCALATED: "escalated to humans",
        MemoryOutcome.REPORTED: "diagnosed and reported; nothing changed",
    }
    return phrases[outcome]


class MemoryTable(Table):
    """The run store's incident memory."""

    def _entry(self, row: Row) -> MemoryEntry:
        return MemoryEntry(
            run_id=row["run_id"],
            recorded_at=self._db.ts_value(row["recorded_at"]),
            target=WorkloadRef(namespace=row["namespace"], kind=row["kind"], name=row["name"]),
            category=row["category"],
            fix_kind=row["fix_kind"],
            outcome=MemoryOutcome(row["outcome"]),
            signature=self._db.json_value(row["signature"]) or {},
            summary=row["summary"],
        )

    def _delete(self, tx: Tx, where: str, params: tuple[Any, ...]) -> int:
        if self._db.kind == "sqlite":
            tx.execute(
                "DELETE FROM incident_memory_fts"
                f" WHERE run_id IN (SELECT run_id FROM incident_memory{where})",
                params,
            )
        return tx.execute(f"DELETE FROM incident_memory{where}", params)

    def remember(self, entry: MemoryEntry) -> None:
        """Store (or replace) the memory of one run."""
        signature = IncidentSignature.from_data(entry.signature)
        target = entry.target
        with self._write(f"memory of run {entry.run_id!r}") as tx:
            self._delete(tx, " WHERE run_id = ?", (entry.run_id,))
            tx.execute(
                f"INSERT INTO incident_memory ({_COLUMNS}, document)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (entry.run_id, self._db.ts_param(entry.recorded_at), target.namespace, target.kind,
                 target.name, entry.category, entry.fix_kind, entry.outcome.value,
                 self._db.json_param(signature.to_data()), entry.summary, signature.document()),
            )  # fmt: skip
            if self._db.kind == "sqlite":
                tx.execute(
                    "INSERT INTO incident_memory_fts (run_id, document) VALUES (?, ?)",
                    (entry.run_id, signature.document()),
                )

    def _text_matches(self, tx: Tx, terms: list[str]) -> dict[str, float]:
        """run id -> full-text rank relative to the best match (1.0), for the query's words."""
        if self._db.kind == "sqlite":
            query = " OR ".join(f'"{term}"' for term in terms)
            found = tx.all(
                "SELECT run_id, bm25(incident_memory_fts) AS rank FROM incident_memory_fts"
                " WHERE incident_memory_fts MATCH ? ORDER BY rank LIMIT ?",
                (query, CANDIDATES),
            )
            ranks = {row["run_id"]: -float(row["rank"]) for row in found}  # bm25: lower is better
        else:
            found = tx.all(
                "SELECT run_id, ts_rank(document_tsv, to_tsquery('simple', ?)) AS rank FROM incident_memory"
                " WHERE document_tsv @@ to_tsquery('simple', ?) ORDER BY rank DESC LIMIT ?",
                (" | ".join(terms), " | ".join(terms), CANDIDATES),
            )
            ranks = {row["run_id"]: float(row["rank"]) for row in found}
        best = max(ranks.values(), default=0.0)
        return {run_id: (rank / best if best > 0 else 0.0) for run_id, rank in ranks.items()}

    def similar_incidents(
        self,
        signature: IncidentSignature,
        *,
        exclude_run: str | None = None,
        limit: int = 3,
        min_score: float = MIN_SCORE,
    ) -> list[SimilarIncident]:
        """The remembered incidents most like `signature`, best first, scored 0..1."""
        kind = signature.workload_kind.lower()
        terms = [t for t in search_terms(signature.document()) if t != kind]
        if not terms or limit < 1:
            return []
        with self._db.read() as tx:
            ranks = self._text_matches(tx, terms)
            ranks.pop(exclude_run or "", None)
            if not ranks:
                return []
            placeholders = ", ".join("?" for _ in ranks)
            rows = tx.all(f"{_SELECT} WHERE run_id IN ({placeholders})", tuple(ranks))
        scored: list[SimilarIncident] = []
        for row in rows:
            entry = self._entry(row)
            score = combined_score(
                signature, IncidentSignature.from_data(entry.signature), ranks[entry.run_id]
            )
            if score < min_score:
                continue
            scored.append(
                SimilarIncident(
                    run_id=entry.run_id,
                    target=str(entry.target),
                    recorded_at=entry.recorded_at.isoformat(),
                    score=score,
                    outcome=entry.outcome,
                    category=entry.category,
                    fix_kind=entry.fix_kind,
                    summary=outcome_phrase(entry.outcome, entry.fix_kind),
                )
            )
        scored.sort(key=lambda s: s.recorded_at, reverse=True)  # on equal scores, the newest first
        scored.sort(key=lambda s: -s.score)
        return scored[:limit]

    def fix_history(self, category: str, fix_kind: str, target: WorkloadRef) -> FixHistory:
        """How `fix_kind` fared for `category` everywhere, and on `target` (for any root cause)."""
        with self._db.read() as tx:
            overall = tx.all(
                "SELECT outcome FROM incident_memory WHERE category = ? AND fix_kind = ?"
                " ORDER BY recorded_at DESC LIMIT ?",
                (category, fix_kind, HISTORY_ROWS),
            )
            here = tx.all(
                "SELECT outcome FROM incident_memory WHERE namespace = ? AND kind = ? AND name = ?"
                " AND fix_kind = ? ORDER BY recorded_at DESC LIMIT ?",
                (target.namespace, target.kind, target.name, fix_kind, HISTORY_ROWS),
            )
        return FixHistory(
            category=category,
            fix_kind=fix_kind,
            overall=track_record(MemoryOutcome(r["outcome"]) for r in overall),
            here=track_record(MemoryOutcome(r["outcome"]) for r in here),
        )

    def memory_entries(self, *, limit: int | None = None) -> list[MemoryEntry]:
        """Every remembered incident (or the newest `limit`), newest first: what `export` writes."""
        sql = f"{_SELECT} ORDER BY recorded_at DESC, run_id DESC"
        params: tuple[Any, ...] = ()
        if limit is not None:
            sql += " LIMIT ?"
            params = (limit,)
        with self._db.read() as tx:
            return [self._entry(row) for row in tx.all(sql, params)]

    def forget(
        self,
        *,
        run_id: str | None = None,
        namespace: str | None = None,
        workload: str | None = None,
        before: datetime | None = None,
        everything: bool = False,
    ) -> int:
        """Erase remembered incidents matching every given filter; how many went.

        With no filter at all nothing is erased unless `everything` says so (fail closed)."""
        where, params = equal_to({"run_id": run_id, "namespace": namespace, "name": workload})
        if before is not None:
            where.append("recorded_at < ?")
            params.append(self._db.ts_param(before))
        if not where and not everything:
            raise InvalidInputError("forget needs a filter (run, namespace, workload, before) or everything")
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        with self._write("forget memory") as tx:
            return self._delete(tx, clause, tuple(params))

    def prune_memory(
        self, *, max_age: timedelta | None, max_entries: int | None, now: datetime | None = None
    ) -> int:
        """Apply the retention setting: drop entries older than `max_age`, then all but the newest
        `max_entries`; how many went."""
        removed = 0
        if max_age is not None:
            removed += self.forget(before=(now or utc_now()) - max_age)
        if max_entries is not None:
            with self._write("prune memory") as tx:
                removed += self._delete(
                    tx,
                    " WHERE run_id NOT IN (SELECT run_id FROM incident_memory"
                    " ORDER BY recorded_at DESC, run_id DESC LIMIT ?)",
                    (max_entries,),
                )
        return removed

    def recurring_incidents(
        self, *, min_count: int = 3, since: datetime | None = None
    ) -> list[RecurringIncident]:
        """Workloads remembered failing the same way at least `min_count` times (since `since`)."""
        where, params = "", tuple[Any, ...]()
        if since is not None:
            where, params = " WHERE recorded_at >= ?", (self._db.ts_param(since),)
        with self._db.read() as tx:
            rows = tx.all(
                f"SELECT namespace, kind, name, category, outcome, COUNT(*) AS n, MAX(recorded_at) AS last"
                f" FROM incident_memory{where} GROUP BY namespace, kind, name, category, outcome",
                params,
            )
        grouped: dict[tuple[str, str, str, str | None], dict[str, Any]] = {}
        for row in rows:
            key = (row["namespace"], row["kind"], row["name"], row["category"])
            group = grouped.setdefault(key, {"count": 0, "last": row["last"], "outcomes": {}})
            group["count"] += int(row["n"])
            group["last"] = max(group["last"], row["last"])
            group["outcomes"][row["outcome"]] = int(row["n"])
        return sorted(
            (
                RecurringIncident(
                    target=WorkloadRef(namespace=ns, kind=kind, name=name),
                    category=category,
                    count=group["count"],
                    last_seen=self._db.ts_value(group["last"]),
                    outcomes=group["outcomes"],
                )
                for (ns, kind, name, category), group in grouped.items()
                if group["count"] >= min_count
            ),
            key=lambda r: (-r.count, str(r.target)),
        )
