"""A Deployment's rollout history: one revision per ReplicaSet, like `kubectl rollout history`."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.objects import (
    CHANGE_CAUSE_ANNOTATION,
    POD_TEMPLATE_HASH,
    name_of,
    read_object,
    replica_sets_of,
    revision_of,
)
from tools.result import ToolResult, TraceSink, discard

ROLLOUT_HISTORY_TOOL = "kubernetes.rollout_history"


class Revision(BaseModel):
    """One revision: the ReplicaSet that carries it and its pod template."""

    model_config = ConfigDict(frozen=True)

    revision: int
    replica_set: str
    template: dict[str, Any]  # the pod template without pod-template-hash (server defaults kept)
    change_cause: str = ""
    created: str = ""
    replicas: int = 0  # pods of this revision right now
    current: bool = False
    images: list[str] = []


class RolloutHistory(BaseModel):
    """Every revision the Deployment still has a ReplicaSet for, oldest first."""

    model_config = ConfigDict(frozen=True)

    namespace: str
    deployment: str
    current_revision: int | None
    revisions: list[Revision]

    def get(self, revision: int) -> Revision | None:
        """The revision with this number, if still known."""
        return next((r for r in self.revisions if r.revision == revision), None)

    @property
    def previous(self) -> Revision | None:
        """The newest revision older than the current one (what `kubectl rollout undo` returns to)."""
        older = [
            r for r in self.revisions if self.current_revision is None or r.revision < self.current_revision
        ]
        return older[-1] if older else None


def pod_template_of(replica_set: Obj) -> dict[str, Any]:
    """A ReplicaSet's pod template minus the pod-template-hash label, as `kubectl rollout undo` copies it."""
    template: dict[str, Any] = json.loads(json.dumps((replica_set.get("spec") or {}).get("template") or {}))
    meta = template.get("metadata")
    if isinstance(meta, dict):
        (meta.get("labels") or {}).pop(POD_TEMPLATE_HASH, None)
        if meta.get("creationTimestamp") is None:
            meta.pop("creationTimestamp", None)
    return template


def history_of(deployment: Obj, replica_sets: list[Obj]) -> RolloutHistory:
    """Build the history from a Deployment and its ReplicaSets."""
    current = revision_of(deployment)
    revisions = []
    for rs in replica_sets:
        number = revision_of(rs)
        if number is None:  # not made by a deployment controller; it has no place in the history
            continue
        template = pod_template_of(rs)
        containers = (template.get("spec") or {}).get("containers") or []
        meta = rs.get("metadata") or {}
        revisions.append(
            Revision(
                revision=number,
                replica_set=name_of(rs),
                template=template,
                change_cause=str((meta.get("annotations") or {}).get(CHANGE_CAUSE_ANNOTATION) or ""),
                created=str(meta.get("creationTimestamp") or ""),
                replicas=int((rs.get("status") or {}).get("replicas") or 0),
                current=number == current,
                images=[str(c.get("image", "")) for c in containers],
            )
        )
    revisions.sort(key=lambda r: r.revision)
    meta = deployment.get("metadata") or {}
    return RolloutHistory(
        namespace=str(meta.get("namespace") or ""),
        deployment=name_of(deployment),
        current_revision=current,
        revisions=revisions,
    )


def read_rollout_history(kube: KubeClient, namespace: str, deployment: str) -> RolloutHistory:
    """The rollout history (raises `ToolFailure`); see `rollout_history`."""
    obj = read_object(kube, "Deployment", namespace, deployment)
    return history_of(obj, replica_sets_of(kube, obj))


def rollout_history(
    kube: KubeClient, namespace: str, deployment: str, *, sink: TraceSink = discard
) -> ToolResult[RolloutHistory]:
    """The Deployment's revisions (ReplicaSets) with their pod templates, change-causes and images."""
    return kube.run(
        ROLLOUT_HISTORY_TOOL,
        {"namespace": namespace, "deployment": deployment},
        lambda: read_rollout_history(kube, namespace, deployment),
        sink,
        summarize=lambda h: f"{len(h.revisions)} revisions, current {h.current_revision}",
    )
