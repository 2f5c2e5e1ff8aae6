"""The run store over SQL: incidents, runs, trace events, blobs, the audit log, circuit breakers,
incident memory and run claims.

One class over one database; each table's operations live in its own module (`incident_table`,
`run_table`, `trace_table`, `audit_table`, `breaker_table`, `memory_table`, `claim_table`) and the
database differences in the `Backend` (`sqlite`, `postgres`). Every write is one transaction.
"""

from __future__ import annotations

from server.runstore.audit_table import AuditTable
from server.runstore.backend import Backend
from server.runstore.breaker_table import BreakerTable
from server.runstore.claim_table import ClaimTable
from server.runstore.incident_table import IncidentTable
from server.runstore.lifecycle_table import LifecycleTable
from server.runstore.memory_table import MemoryTable
from server.runstore.run_table import RunTable
from server.runstore.schema import migrate
from server.runstore.signal import ChangeSignal
from server.runstore.trace_table import TraceTable


class RunStore(
    IncidentTable, RunTable, TraceTable, AuditTable, LifecycleTable, BreakerTable, MemoryTable, ClaimTable
):
    """Incidents, runs, their ordered trace events, content-addressed blobs, the audit log, the
    incident lifecycle and sighting folds, the circuit breakers (`breakers`), incident memory
    (`incident_memory`) and the run claims (`run_claims`, `run_inbox`).

    Open one with `server.runstore.open_run_store(url)`. Unknown ids raise `NotFoundError`
    subclasses, bad arguments `InvalidInputError`, contradicting writes `ConflictError`
    (see `server.runstore.errors`).
    """

    def __init__(self, backend: Backend) -> None:
        self._db = backend
        self._signal = ChangeSignal()
        try:
            self.schema_version = migrate(backend)
        except BaseException:
            backend.close()
            raise

    @property
    def kind(self) -> str:
        """Which database: 'sqlite' or 'postgres'."""
        return self._db.kind

    def close(self) -> None:
        """Release the database connections."""
        self._db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
