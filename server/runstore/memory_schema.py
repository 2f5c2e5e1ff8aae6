"""The incident-memory tables (schema migration 4): one row per finished run, plus the database's own
full-text index over its signature (an FTS5 table in SQLite, a generated tsvector in PostgreSQL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.runstore.schema import Types


def memory_v4(t: Types) -> list[str]:
    """Create `incident_memory` and its full-text index."""
    postgres = t.ts == "TIMESTAMPTZ"
    fulltext = (
        ", document_tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', document)) STORED"
        if postgres
        else ""
    )
    statements = [
        f"""CREATE TABLE incident_memory (
            run_id TEXT PRIMARY KEY,
            recorded_at {t.ts} NOT NULL,
            namespace TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            category TEXT,
            fix_kind TEXT,
            outcome TEXT NOT NULL,
            signature {t.json} NOT NULL,
            document TEXT NOT NULL,
            summary TEXT NOT NULL{fulltext})""",
        "CREATE INDEX incident_memory_by_fix ON incident_memory (category, fix_kind, recorded_at)",
        "CREATE INDEX incident_memory_by_workload ON incident_memory (namespace, name, recorded_at)",
        "CREATE INDEX incident_memory_by_time ON incident_memory (recorded_at, run_id)",
    ]
    if postgres:
        statements.append("CREATE INDEX incident_memory_fulltext ON incident_memory USING GIN (document_tsv)")
    else:
        statements.append(
            "CREATE VIRTUAL TABLE incident_memory_fts"
            " USING fts5(run_id UNINDEXED, document, tokenize='unicode61')"
        )
    return statements
