"""The Application's status as Argo CD writes it: sync and health, per-resource results, the last
operation's state, the deployment history and ComparisonError conditions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sandbox.gitops.application import APPLICATIONS, AppSpec
from sandbox.gitops.health import Health
from sandbox.gitops.report import PRUNED, SYNC_FAILED, ResourceResult
from sandbox.store import ApiError, Store, now_rfc3339

Obj = dict[str, Any]
HISTORY_LIMIT = 10


class ApplicationStatus:
    """Keeps the last operation and the history, and writes them with the rest of the status."""

    def __init__(self, store: Store, spec: AppSpec, clock: Callable[[], datetime] | None) -> None:
        self._store = store
        self.spec = spec
        self._clock = clock
        self.operation: Obj | None = None
        self._history: list[Obj] = []

    def record_operation(self, revision: str, phase: str, results: list[ResourceResult]) -> None:
        """Record a finished sync operation (and, when it succeeded, a history entry)."""
        now = now_rfc3339(self._clock)
        failures = [f"{r.kind}/{r.name}: {r.message}" for r in results if r.status == SYNC_FAILED]
        message = (
            "successfully synced (all tasks run)"
            if phase == "Succeeded"
            else ("one or more objects failed to apply, reason: " + "; ".join(failures))
        )
        previous = self.operation or {}
        if (
            previous.get("phase"),
            previous.get("message"),
            previous.get("syncResult", {}).get("revision"),
        ) == (phase, message, revision) and phase == "Failed":
            return  # the same failure again: keep the first report's timestamps
        self.operation = {
            "operation": {"sync": {"revision": revision, "prune": True}, "initiatedBy": {"automated": True}},
            "phase": phase,
            "message": message,
            "startedAt": now,
            "finishedAt": now,
            "syncResult": {
                "revision": revision,
                "source": {
                    "repoURL": self.spec.repo_url,
                    "path": self.spec.path,
                    "targetRevision": self.spec.target_revision,
                },
                "resources": [r.as_sync_result() for r in results],
            },
        }
        if phase == "Succeeded":
            entry = {
                "id": (self._history[-1]["id"] + 1) if self._history else 0,
                "revision": revision,
                "deployedAt": now,
                "deployStartedAt": now,
                "source": self.operation["syncResult"]["source"],
            }
            self._history = [*self._history, entry][-HISTORY_LIMIT:]

    def record_failure(self, revision: str, message: str) -> None:
        """Record a revision that could not be loaded (the first report of a failure keeps its times)."""
        previous = self.operation or {}
        if previous.get("message") != message or previous.get("syncResult", {}).get("revision") != revision:
            now = now_rfc3339(self._clock)
            self.operation = {
                "operation": {"sync": {"revision": revision}, "initiatedBy": {"automated": True}},
                "phase": "Failed",
                "message": message,
                "startedAt": now,
                "finishedAt": now,
                "syncResult": {"revision": revision, "resources": []},
            }

    def write(
        self,
        app: Obj,
        revision: str,
        sync_status: str,
        health: Health,
        results: list[ResourceResult],
        conditions: list[Obj],
        images: list[str],
    ) -> None:
        """Write the Application's status (skipped when nothing but reconciledAt would change)."""
        spec = app.get("spec") or {}
        status: Obj = {
            "sync": {
                "status": sync_status,
                "revision": revision,
                "comparedTo": {"source": spec.get("source", {}), "destination": spec.get("destination", {})},
            },
            "health": health.as_dict(),
            "resources": [r.as_status() for r in results if r.status != PRUNED],
            "sourceType": "Directory",
            "summary": {"images": images} if images else {},
            "history": self._history,
        }
        if self.operation is not None:
            status["operationState"] = self.operation
        if conditions:
            old = {c.get("type"): c for c in (app.get("status") or {}).get("conditions") or []}
            status["conditions"] = [
                {
                    **c,
                    "lastTransitionTime": (old.get(c["type"]) or {}).get("lastTransitionTime")
                    if (old.get(c["type"]) or {}).get("message") == c["message"]
                    else now_rfc3339(self._clock),
                }
                for c in conditions
            ]
        current = dict(app.get("status") or {})  # compared only: a shallow copy to drop one key
        current.pop("reconciledAt", None)
        if current == status:
            return  # an unchanged status is not rewritten: watchers see only real changes
        status["reconciledAt"] = now_rfc3339(self._clock)
        body = {"metadata": {"name": self.spec.name, "namespace": self.spec.namespace}, "status": status}
        try:
            self._store.update(APPLICATIONS, body, status_only=True, copy=False)
        except ApiError as exc:
            if exc.code != 404:
                raise
