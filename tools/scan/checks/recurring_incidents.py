"""Workloads incident memory saw failing the same way again and again: fixed each time, never cured."""

from __future__ import annotations

from collections.abc import Iterator

from tools.scan.finding import Finding, Severity
from tools.scan.snapshot import Snapshot

ID = "recurring-incident"
TITLE = "Incident keeps recurring"


def check(snapshot: Snapshot) -> Iterator[Finding]:
    """A finding per recurring incident memory reported (the composition root passes them in)."""
    for recurring in snapshot.recurring:
        outcomes = ", ".join(f"{n} {outcome}" for outcome, n in sorted(recurring.outcomes.items()))
        yield Finding(
            check=ID,
            severity=Severity.MEDIUM,
            namespace=recurring.namespace,
            kind=recurring.kind,
            name=recurring.name,
            message=f"failed {recurring.count} times with root cause {recurring.category or 'unknown'} "
            f"({outcomes}): the fix treats the symptom; find the cause",
        )
