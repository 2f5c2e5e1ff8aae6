"""The cluster as the nodes see it: the few reads and guarded writes they use, behind one protocol.

`KubeCluster` is the real thing (the `tools.kubernetes` functions bound to one `KubeClient`);
unit tests hand the nodes a fake with the same shape. Every call answers a `ToolResult` and
reports to the caller's trace sink, exactly as the tools do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from agent.domain import DirectPatch, Restart, Rollback, Scale, WorkloadRef
from tools.guard import PolicyGuard
from tools.kubernetes import (
    KubeClient,
    Manifest,
    RolloutHistory,
    ServiceStatus,
    WorkloadStatus,
    WriteOutcome,
    live_manifest,
    patch_deployment,
    rollout_history,
    rollout_restart,
    rollout_undo,
    scale,
    service_status,
    workload_status,
)
from tools.result import ToolResult, TraceSink, discard

# The proposals a direct write carries out; the type says which write and its arguments.
DirectRemediation = Restart | Scale | Rollback | DirectPatch


class Cluster(Protocol):
    """Reads and guarded writes of one workload (writes support the API server's dry run)."""

    def status(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[WorkloadStatus]:
        """Replicas, conditions and pods of the workload."""
        ...

    def service(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[ServiceStatus]:
        """A Service's selector and the pods of its namespace (a run that followed a Service)."""
        ...

    def manifest(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[Manifest]:
        """The workload's cleaned live manifest."""
        ...

    def history(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[RolloutHistory]:
        """The Deployment's revisions."""
        ...

    def write(
        self,
        target: WorkloadRef,
        change: DirectRemediation,
        guard: PolicyGuard,
        *,
        at: datetime,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """Make `change` on the workload through `guard`: a strategic-merge patch, `kubectl scale`,
        `kubectl rollout restart` stamped with `at` (so a repeat is recognisably the same restart),
        or `kubectl rollout undo --to-revision`."""
        ...


@dataclass(frozen=True)
class KubeCluster:
    """`Cluster` over the Kubernetes API through `tools.kubernetes`."""

    kube: KubeClient

    def status(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[WorkloadStatus]:
        """Replicas, conditions and pods of the workload."""
        return workload_status(self.kube, target.namespace, target.kind, target.name, sink=sink)

    def service(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[ServiceStatus]:
        """A Service's selector and the pods of its namespace."""
        return service_status(self.kube, target.namespace, target.name, sink=sink)

    def manifest(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[Manifest]:
        """The workload's cleaned live manifest."""
        return live_manifest(self.kube, target.namespace, target.kind, target.name, sink=sink)

    def history(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[RolloutHistory]:
        """The Deployment's revisions."""
        return rollout_history(self.kube, target.namespace, target.name, sink=sink)

    def write(
        self,
        target: WorkloadRef,
        change: DirectRemediation,
        guard: PolicyGuard,
        *,
        at: datetime,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """The `tools.kubernetes` write that makes `change`."""
        kube, namespace, name, kind = self.kube, target.namespace, target.name, target.kind
        if isinstance(change, Restart):
            return rollout_restart(
                kube, guard, namespace, name, kind=kind, now=at, dry_run=dry_run, sink=sink
            )
        if isinstance(change, Scale):
            return scale(kube, guard, namespace, name, change.replicas, kind=kind, dry_run=dry_run, sink=sink)
        if isinstance(change, Rollback):
            return rollout_undo(
                kube, guard, namespace, name, to_revision=change.revision, dry_run=dry_run, sink=sink
            )
        return patch_deployment(kube, guard, namespace, name, change.patch, dry_run=dry_run, sink=sink)
