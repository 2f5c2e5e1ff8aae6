"""What a sync pass reports: per-object results and the pass's summary (sync status, health, phase)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.gitops.health import Health

Obj = dict[str, Any]

SYNCED = "Synced"
OUT_OF_SYNC = "OutOfSync"
SYNC_FAILED = "SyncFailed"
PRUNED = "Pruned"


@dataclass(frozen=True)
class ResourceResult:
    """One managed object after a pass."""

    group: str
    version: str
    kind: str
    namespace: str
    name: str
    status: str  # Synced, OutOfSync, SyncFailed, Pruned
    message: str = ""
    health: Health | None = None

    def as_status(self) -> Obj:
        """The entry in `status.resources`."""
        entry: Obj = {
            "group": self.group,
            "version": self.version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "status": OUT_OF_SYNC if self.status == SYNC_FAILED else self.status,
        }
        if self.health is not None:
            entry["health"] = self.health.as_dict()
        return entry

    def as_sync_result(self) -> Obj:
        """The entry in `operationState.syncResult.resources`."""
        return {
            "group": self.group,
            "version": self.version,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "status": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class SyncReport:
    """What one pass found and did."""

    revision: str
    sync_status: str
    health: Health
    operation_phase: str | None  # None when the pass wrote nothing; Succeeded / Failed otherwise
    message: str
    resources: tuple[ResourceResult, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def synced(self) -> bool:
        """True when the cluster matches Git at `revision`."""
        return self.sync_status == SYNCED
