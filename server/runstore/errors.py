"""What the run store raises: every error names the record or field at fault."""

from __future__ import annotations


class RunStoreError(Exception):
    """Base class of the run store's errors."""


class NotFoundError(RunStoreError, LookupError):
    """A record that does not exist."""


class UnknownRunError(NotFoundError):
    """No run has this id."""

    def __init__(self, run_id: str) -> None:
        super().__init__(f"unknown run {run_id!r}")
        self.run_id = run_id


class UnknownIncidentError(NotFoundError):
    """No incident has this id."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"unknown incident {incident_id!r}")
        self.incident_id = incident_id


class UnknownBlobError(NotFoundError):
    """No blob has this sha256."""

    def __init__(self, sha256: str) -> None:
        super().__init__(f"unknown blob {sha256!r}")
        self.sha256 = sha256


class ConflictError(RunStoreError):
    """The write contradicts what is stored (a duplicate id, a second active run, a finished run)."""


class NotWaitingError(ConflictError):
    """An answer to a run that is not waiting for one (already answered, or never asked): `status` says
    where the run is."""

    def __init__(self, run_id: str, status: str) -> None:
        super().__init__(f"run {run_id!r} is {status}, not waiting for approval; nothing was changed")
        self.run_id = run_id
        self.status = status


class InvalidInputError(RunStoreError, ValueError):
    """Arguments the store cannot accept (a bad limit, cursor, payload or status)."""


class SchemaVersionError(RunStoreError):
    """The database was migrated by a newer Paramedic than this one."""
