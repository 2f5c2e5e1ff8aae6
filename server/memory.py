"""Incident memory over the run store: the graph's `IncidentMemory`, and what each finished run adds.

`StoreMemory` answers the analyst (similar incidents) and the decision node (fix history) from the
run store's memory table. `MemoryRecorder.on_finished` turns a finished run into one redacted
`MemoryEntry` and applies the retention setting.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from agent.config import MemorySettings
from agent.domain import WorkloadRef
from graph.memory import FixHistory, IncidentSignature, SimilarIncident, outcome_of, signature_of_run
from graph.runner import RunResult
from graph.state import HealingState, incident_diagnosis, incident_of
from server.runstore import RunStore
from server.runstore.memory_models import MAX_SUMMARY, MemoryEntry
from server.runstore.models import RunRecord

log = logging.getLogger(__name__)


class StoreMemory:
    """`graph.memory.IncidentMemory` over a run store."""

    def __init__(self, store: RunStore) -> None:
        self._store = store

    def similar(
        self, signature: IncidentSignature, *, exclude_run: str | None = None, limit: int = 3
    ) -> list[SimilarIncident]:
        """The remembered incidents most like `signature`."""
        return self._store.similar_incidents(signature, exclude_run=exclude_run, limit=limit)

    def fix_history(self, category: str, fix_kind: str, target: WorkloadRef) -> FixHistory:
        """How `fix_kind` fared for `category`, overall and on `target`."""
        return self._store.fix_history(category, fix_kind, target)


def memory_entry(record: RunRecord, state: HealingState) -> MemoryEntry | None:
    """What memory keeps of a finished run; None while it is not finished or has no incident."""
    if record.status.active or "incident" not in state:
        return None
    outcome = outcome_of(state)
    if outcome is None:
        return None
    signature = signature_of_run(state)
    diagnosis = incident_diagnosis(state)
    return MemoryEntry(
        run_id=record.id,
        recorded_at=record.finished_at or record.updated_at,
        target=incident_of(state).target,
        category=signature.category,
        fix_kind=signature.fix_kind,
        outcome=outcome,
        signature=signature.to_data(),
        summary=diagnosis.explanation[:MAX_SUMMARY] if diagnosis else "",
    )


class MemoryRecorder:
    """Records each finished run in memory, then prunes to the retention setting."""

    def __init__(self, store: RunStore, settings: MemorySettings) -> None:
        self._store = store
        self._settings = settings

    def on_finished(self, record: RunRecord, result: RunResult | None) -> None:
        """A run ended: remember it (never raises: memory must not fail a run)."""
        if result is None or not self._settings.enabled:
            return
        try:
            entry = memory_entry(record, result.state)
            if entry is None:
                return
            self._store.remember(entry)
            days = self._settings.retention_days
            self._store.prune_memory(
                max_age=timedelta(days=days) if days else None, max_entries=self._settings.max_incidents
            )
        except Exception:
            log.exception("recording run %s in incident memory failed", record.id)
