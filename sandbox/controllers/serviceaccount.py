"""The service-account controller: every namespace gets its `default` ServiceAccount."""

from __future__ import annotations

from sandbox.controllers.base import Controller
from sandbox.resources import NAMESPACES, SERVICEACCOUNTS
from sandbox.store import ApiError, Store, WatchEvent


class ServiceAccountController(Controller):
    """Creates `default` in each namespace (and again if it is deleted)."""

    name = "serviceaccount"

    def __init__(self, store: Store) -> None:
        super().__init__()
        self._store = store

    def observe(self, event: WatchEvent) -> None:
        """A namespace appeared, or a `default` account went away."""
        if event.key == NAMESPACES.key and event.type != "DELETED":
            self.mark(event.obj["metadata"]["name"])
        elif (
            event.key == SERVICEACCOUNTS.key
            and event.type == "DELETED"
            and event.obj["metadata"]["name"] == "default"
        ):
            self.mark(event.namespace)

    def sync(self, namespace: str) -> None:
        """Make sure `default` exists in the namespace (not while it is being deleted)."""
        ns = self._store.find(NAMESPACES, "", namespace, copy=False)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        if self._store.find(SERVICEACCOUNTS, namespace, "default", copy=False) is not None:
            return
        try:
            self._store.create(SERVICEACCOUNTS, {"metadata": {"name": "default", "namespace": namespace}})
        except ApiError:
            return
