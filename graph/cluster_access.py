"""The cluster as the nodes see it: the few reads and guarded writes they use, behind one protocol.

`KubeCluster` is the real thing (the `tools.kubernetes` functions bound to one `KubeClient`);
unit tests hand the nodes a fake with the same shape. Every call answers a `ToolResult` and
reports to the caller's trace sink, exactly as the tools do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from agent.domain import WorkloadRef
from tools.guard import PolicyGuard
from tools.kubernetes import (
    KubeClient,
    Manifest,
    RolloutHistory,
    WorkloadStatus,
    WriteOutcome,
    live_manifest,
    patch_deployment,
    rollout_history,
    rollout_restart,
    rollout_undo,
    scale,
    workload_status,
)
from tools.result import ToolResult, TraceSink, discard


class Cluster(Protocol):
    """Reads and guarded writes of one workload (writes support the API server's dry run)."""

    def status(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[WorkloadStatus]:
        """Replicas, conditions and pods of the workload."""
        ...

    def manifest(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[Manifest]:
        """The workload's cleaned live manifest."""
        ...

    def history(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[RolloutHistory]:
        """The Deployment's revisions."""
        ...

    def patch(
        self,
        target: WorkloadRef,
        patch: Mapping[str, Any],
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """Strategic-merge patch the workload."""
        ...

    def scale(
        self,
        target: WorkloadRef,
        replicas: int,
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """Set spec.replicas."""
        ...

    def restart(
        self,
        target: WorkloadRef,
        guard: PolicyGuard,
        *,
        at: datetime,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """`kubectl rollout restart`, stamped with `at` (so a repeat is recognisably the same restart)."""
        ...

    def undo(
        self,
        target: WorkloadRef,
        revision: int | None,
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """`kubectl rollout undo --to-revision`."""
        ...


@dataclass(frozen=True)
class KubeCluster:
    """`Cluster` over the Kubernetes API through `tools.kubernetes`."""

    kube: KubeClient

    def status(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[WorkloadStatus]:
        """Replicas, conditions and pods of the workload."""
        return workload_status(self.kube, target.namespace, target.kind, target.name, sink=sink)

    def manifest(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[Manifest]:
        """The workload's cleaned live manifest."""
        return live_manifest(self.kube, target.namespace, target.kind, target.name, sink=sink)

    def history(self, target: WorkloadRef, *, sink: TraceSink = discard) -> ToolResult[RolloutHistory]:
        """The Deployment's revisions."""
        return rollout_history(self.kube, target.namespace, target.name, sink=sink)

    def patch(
        self,
        target: WorkloadRef,
        patch: Mapping[str, Any],
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """Strategic-merge patch the Deployment."""
        return patch_deployment(
            self.kube, guard, target.namespace, target.name, patch, dry_run=dry_run, sink=sink
        )

    def scale(
        self,
        target: WorkloadRef,
        replicas: int,
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """Set spec.replicas."""
        return scale(
            self.kube,
            guard,
            target.namespace,
            target.name,
            replicas,
            kind=target.kind,
            dry_run=dry_run,
            sink=sink,
        )

    def restart(
        self,
        target: WorkloadRef,
        guard: PolicyGuard,
        *,
        at: datetime,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """`kubectl rollout restart`, stamped with `at`."""
        return rollout_restart(
            self.kube,
            guard,
            target.namespace,
            target.name,
            kind=target.kind,
            now=at,
            dry_run=dry_run,
            sink=sink,
        )

    def undo(
        self,
        target: WorkloadRef,
        revision: int | None,
        guard: PolicyGuard,
        *,
        dry_run: bool,
        sink: TraceSink = discard,
    ) -> ToolResult[WriteOutcome]:
        """`kubectl rollout undo --to-revision`."""
        return rollout_undo(
            self.kube, guard, target.namespace, target.name, to_revision=revision, dry_run=dry_run, sink=sink
        )
