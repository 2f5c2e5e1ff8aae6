"""The resource-quota controller: each ResourceQuota's status.hard and status.used, kept current as the
namespace's pods and objects change (what `kubectl describe quota` and `get quota` show)."""

from __future__ import annotations

from sandbox.admission.quota import used
from sandbox.controllers.base import Controller, put_status
from sandbox.controllers.quantity import format_quantity, is_binary
from sandbox.resources import EVENTS, RESOURCEQUOTAS, Registry
from sandbox.store import Obj, Store, WatchEvent


class QuotaController(Controller):
    """Recomputes the usage of every quota in a namespace where something changed."""

    name = "resourcequota"

    def __init__(self, store: Store, registry: Registry) -> None:
        super().__init__()
        self._store = store
        self._registry = registry
        self._namespaces: set[str] = set()  # namespaces that have a quota

    def observe(self, event: WatchEvent) -> None:
        """Any change in a namespace with a quota (events aside)."""
        if event.key == RESOURCEQUOTAS.key:
            self._namespaces.add(event.namespace)
            self.mark(event.namespace)
        elif event.key != EVENTS.key and event.namespace in self._namespaces:
            self.mark(event.namespace)

    def sync(self, namespace: str) -> None:
        """Write status.hard/used of each quota in the namespace."""
        quotas, _ = self._store.list(RESOURCEQUOTAS, namespace, copy=False)
        if not quotas:
            self._namespaces.discard(namespace)
            return
        for quota in quotas:
            hard = dict((quota.get("spec") or {}).get("hard") or {})
            totals = used(self._store, self._registry, namespace, quota)
            status: Obj = {
                "hard": hard,
                "used": {k: _show(k, v, is_binary(hard.get(k))) for k, v in totals.items()},
            }

            put_status(self._store, RESOURCEQUOTAS, (namespace, quota["metadata"]["name"]), status)


def _show(key: str, value: float, binary: bool) -> str:
    if "cpu" in key:
        return format_quantity(value, False)
    return format_quantity(value, binary or any(w in key for w in ("memory", "storage")))
