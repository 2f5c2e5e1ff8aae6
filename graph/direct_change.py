"""A change made straight on the cluster: the API server's dry run first, then the real write.

Used for what has no manifest field to commit (a restart), for workloads whose manifest is not
in Git, and for the rollback node's `rollout undo`. The dry run goes through the same guard and
the same admission as the real write, so a write the server or the policy would refuse is
refused before anything changes; its answer is part of the audit record either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from agent.domain import WorkloadRef
from graph.cluster_access import Cluster, DirectRemediation
from graph.state import DryRunResult
from tools.guard import PolicyGuard
from tools.kubernetes import WriteOutcome
from tools.result import ToolResult, TraceSink


@dataclass(frozen=True)
class DirectChange:
    """What a direct write came to."""

    ok: bool
    status: str  # a tools.result.ToolStatus value of the real write (or of the dry run that stopped it)
    detail: str
    diff: str
    dry_run: DryRunResult

    def entry_fields(self) -> DirectFacts:
        """The audit entry's result, diff and dry run for this change (`applied` is `ok`)."""
        return {
            "status": self.status,
            "detail": self.detail,
            "diff": self.diff,
            "dry_run": self.dry_run,
        }


class DirectFacts(TypedDict):
    """What a direct change tells `make_entry`."""

    status: str
    detail: str
    diff: str
    dry_run: DryRunResult


def apply_direct(
    cluster: Cluster,
    target: WorkloadRef,
    change: DirectRemediation,
    guard: PolicyGuard,
    *,
    at: datetime,
    sink: TraceSink,
) -> DirectChange:
    """Dry-run the write on the API server, then (only if that passed) make it for real."""

    def write(dry: bool) -> ToolResult[WriteOutcome]:
        return cluster.write(target, change, guard, at=at, dry_run=dry, sink=sink)

    trial = write(True)
    if not trial.ok or trial.data is None:
        detail = f"dry run refused: {trial.error}"
        return DirectChange(False, trial.status.value, detail, "", DryRunResult(ok=False, detail=detail))
    dry = DryRunResult(ok=True, detail=trial.data.decision or "dry run passed")
    if not trial.data.changed:
        return DirectChange(True, "ok", "the workload already has this change", "", dry)
    real = write(False)
    if not real.ok or real.data is None:
        return DirectChange(False, real.status.value, f"write failed: {real.error}", trial.data.diff, dry)
    return DirectChange(True, "ok", f"{change.action.value} applied", real.data.diff, dry)
