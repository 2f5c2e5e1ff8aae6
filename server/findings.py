"""The proactive scan as the server and the CLI run it: the cluster's snapshot plus incident memory's
recurring incidents, through every check in tools/scan."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from agent.config import Settings
from server.runstore import RunStore
from server.runstore.models import utc_now
from tools.kubernetes import KubeClient
from tools.scan import Recurring, ScanReport, read_snapshot, run_checks, scanned_namespaces

RECURRING_AFTER = 3  # remembered incidents of one kind on one workload before it is a finding
RECURRING_WINDOW = timedelta(days=30)


def recurring_from_memory(store: RunStore | None, namespaces: Iterable[str]) -> list[Recurring]:
    """Incident memory's recurring incidents in the scanned namespaces (none without a store)."""
    if store is None:
        return []
    wanted = set(namespaces)
    return [
        Recurring(r.target.namespace, r.target.kind, r.target.name, r.category, r.count, r.outcomes)
        for r in store.recurring_incidents(min_count=RECURRING_AFTER, since=utc_now() - RECURRING_WINDOW)
        if r.target.namespace in wanted
    ]


def scan(
    kube: KubeClient, settings: Settings, store: RunStore | None, namespaces: Iterable[str] = ()
) -> ScanReport:
    """Scan `namespaces` (default: the watcher's scope, or every namespace it does not exclude)."""
    chosen = list(namespaces) or list(settings.scope.namespaces)
    scope = scanned_namespaces(kube, chosen, settings.scope.exclude_namespaces)
    return run_checks(read_snapshot(kube, scope, recurring_from_memory(store, scope)))
