"""A change made straight on the cluster: the API server's dry run first, then the real write.

Used for what has no manifest field to commit (a restart), for workloads whose manifest is not
in Git, and for the rollback node's `rollout undo`. The dry run goes through the same guard and
the same admission as the real write, so a write the server or the policy would refuse is
refused before anything changes; its answer is part of the audit record either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agent.domain import ActionType, WorkloadRef
from graph.cluster_access import Cluster
from graph.state import DryRunResult
from tools.guard import PolicyGuard
from tools.kubernetes import WriteOutcome
from tools.result import ToolResult, TraceSink

DIRECT_ACTIONS = frozenset({ActionType.RESTART, ActionType.SCALE, ActionType.ROLLBACK, ActionType.PATCH})


@dataclass(frozen=True)
class DirectChange:
    """What a direct write came to."""

    ok: bool
    status: str  # a tools.result.ToolStatus value of the real write (or of the dry run that stopped it)
    detail: str
    diff: str
    dry_run: DryRunResult


Write = Callable[[bool], ToolResult[WriteOutcome]]


def _writer(
    cluster: Cluster,
    target: WorkloadRef,
    action: ActionType,
    parameters: Mapping[str, Any],
    patch: Mapping[str, Any] | None,
    guard: PolicyGuard,
    at: datetime,
    sink: TraceSink,
) -> Write | str:
    """A function doing the write (dry or real), or why this action cannot be written directly."""
    if action is ActionType.RESTART:
        return lambda dry: cluster.restart(target, guard, at=at, dry_run=dry, sink=sink)
    if action is ActionType.SCALE:
        replicas = parameters.get("replicas")
        if not isinstance(replicas, int) or isinstance(replicas, bool):
            return f"scale needs an integer 'replicas', got {replicas!r}"
        return lambda dry: cluster.scale(target, replicas, guard, dry_run=dry, sink=sink)
    if action is ActionType.ROLLBACK:
        revision = parameters.get("revision", parameters.get("to_revision"))
        if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
            return f"rollback needs an integer revision, got {revision!r}"
        return lambda dry: cluster.undo(target, revision, guard, dry_run=dry, sink=sink)
    if action is ActionType.PATCH:
        if not patch:
            return "a direct patch needs a patch"
        return lambda dry: cluster.patch(target, patch, guard, dry_run=dry, sink=sink)
    return f"{action.value} is not a direct cluster write"


def apply_direct(
    cluster: Cluster,
    target: WorkloadRef,
    action: ActionType,
    parameters: Mapping[str, Any],
    patch: Mapping[str, Any] | None,
    guard: PolicyGuard,
    *,
    at: datetime,
    sink: TraceSink,
) -> DirectChange:
    """Dry-run the write on the API server, then (only if that passed) make it for real."""
    write = _writer(cluster, target, action, parameters, patch, guard, at, sink)
    if isinstance(write, str):
        return DirectChange(False, "invalid", write, "", DryRunResult(ok=False, detail=write))
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
    return DirectChange(True, "ok", f"{action.value} applied", real.data.diff, dry)
