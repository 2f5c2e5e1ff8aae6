"""The scan's read-only checks, one module each; `CHECKS` lists them in report order.

A check is a function of a `tools.scan.snapshot.Snapshot` yielding `Finding`s; it never calls the
cluster itself and never changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tools.scan.checks import (
    hpa_at_max,
    missing_config_refs,
    no_memory_limit,
    no_probes,
    no_requests,
    probe_port_not_exposed,
    recurring_incidents,
    requests_exceed_nodes,
    restarts_climbing,
    service_selects_nothing,
    single_replica_no_pdb,
    unpinned_image,
)
from tools.scan.finding import Finding
from tools.scan.snapshot import Snapshot


@dataclass(frozen=True)
class Check:
    """One check: its id, what it looks for, and the function that looks."""

    id: str
    title: str
    run: Callable[[Snapshot], Iterator[Finding]]


CHECKS: tuple[Check, ...] = tuple(
    Check(module.ID, module.TITLE, module.check)
    for module in (
        no_memory_limit,
        no_requests,
        no_probes,
        unpinned_image,
        single_replica_no_pdb,
        requests_exceed_nodes,
        probe_port_not_exposed,
        service_selects_nothing,
        missing_config_refs,
        hpa_at_max,
        restarts_climbing,
        recurring_incidents,
    )
)
