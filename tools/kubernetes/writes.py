"""Mutations: patch, scale, rollout restart, rollout undo, delete pod.

Every call asks the caller's `PolicyGuard` first; a verdict other than allow ends the call with
DENIED or NEEDS_APPROVAL before any mutating request is sent. Every call supports the API
server's dry run (`dryRun=All`: validated and admitted, never persisted) and answers with the
object before and after (or as it would be after), cleaned, plus a unified diff, for the audit.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from tools.boundary import redact_value
from tools.guard import GuardDecision, PolicyGuard, WriteRequest, enforce
from tools.kubernetes.client import KubeClient, Obj
from tools.kubernetes.manifest import clean_manifest
from tools.kubernetes.objects import check_kind, controller_of, read_object, replica_sets_of
from tools.kubernetes.rollouts import history_of, pod_template_of
from tools.result import ToolFailure, ToolResult, TraceSink, discard

PATCH_TOOL = "kubernetes.patch"
SCALE_TOOL = "kubernetes.scale"
RESTART_TOOL = "kubernetes.rollout_restart"
ROLLBACK_TOOL = "kubernetes.rollout_undo"
DELETE_POD_TOOL = "kubernetes.delete_pod"

RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
FIELD_MANAGER = "paramedic"
STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"

# Deployment annotations `kubectl rollout undo` keeps from the Deployment instead of the ReplicaSet.
_ROLLBACK_KEEP_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        "deployment.kubernetes.io/revision",
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


class WriteOutcome(BaseModel):
    """What a write did (or, in a dry run, would do)."""

    model_config = ConfigDict(frozen=True)

    action: str
    kind: str
    namespace: str
    name: str
    dry_run: bool
    decision: str  # the guard's reason for allowing it
    sent: Any = None  # the patch body sent, None when nothing was sent
    before: dict[str, Any]  # cleaned manifest before
    after: dict[str, Any] | None  # cleaned manifest after (None when the object is gone)
    changed: bool
    diff: str  # unified diff of before -> after as YAML
    note: str = ""

    def summary(self) -> str:
        """One line for the trace."""
        prefix = "dry run: " if self.dry_run else ""
        change = "changed" if self.changed else "no change"
        return f"{prefix}{self.action} {self.kind} {self.namespace}/{self.name}: {change}" + (
            f" ({self.note})" if self.note else ""
        )


def _yaml(obj: Mapping[str, Any] | None) -> list[str]:
    if obj is None:
        return []
    return yaml.safe_dump(dict(obj), sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def manifest_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, label: str = "") -> str:
    """A unified diff of two manifests rendered as sorted YAML."""
    return "".join(difflib.unified_diff(_yaml(before), _yaml(after), f"{label} (before)", f"{label} (after)"))


def _dry(dry_run: bool) -> str | None:
    return "All" if dry_run else None


def _outcome(
    request: WriteRequest,
    decision: GuardDecision,
    dry_run: bool,
    before: Obj,
    after: Obj | None,
    sent: Any,
    note: str = "",
) -> WriteOutcome:
    # Redacted structurally before diffing: in a YAML diff an env value or a `--password` argument
    # sits on a line of its own, away from the name that says it is a secret. Markers keep equal
    # values equal, so `changed` and the diff still show what a write changed.
    clean_before = redact_value(clean_manifest(before))
    clean_after = redact_value(clean_manifest(after)) if after is not None else None
    label = f"{request.kind}/{request.namespace}/{request.name}"
    return WriteOutcome(
        action=request.action,
        kind=request.kind,
        namespace=request.namespace,
        name=request.name,
        dry_run=dry_run,
        decision=decision.reason,
        sent=sent,
        before=clean_before,
        after=clean_after,
        changed=clean_before != clean_after,
        diff=manifest_diff(clean_before, clean_after, label),
        note=note,
    )


def _patcher(kube: KubeClient, kind: str) -> Callable[..., Any]:
    return {
        "Deployment": kube.apps.patch_namespaced_deployment,
        "StatefulSet": kube.apps.patch_namespaced_stateful_set,
        "DaemonSet": kube.apps.patch_namespaced_daemon_set,
    }[kind]


def _send_patch(
    kube: KubeClient, kind: str, namespace: str, name: str, body: Any, content_type: str, dry_run: bool
) -> Obj:
    return kube.json(
        f"patch {kind.lower()} {namespace}/{name}",
        _patcher(kube, kind),
        name,
        namespace,
        body,
        dry_run=_dry(dry_run),
        field_manager=FIELD_MANAGER,
        _content_type=content_type,
    )


def _run(
    kube: KubeClient, tool: str, args: Mapping[str, Any], fn: Callable[[], WriteOutcome], sink: TraceSink
) -> ToolResult[WriteOutcome]:
    return kube.run(tool, args, fn, sink, summarize=lambda o: o.summary())


def patch_deployment(
    kube: KubeClient,
    guard: PolicyGuard,
    namespace: str,
    name: str,
    patch: Mapping[str, Any],
    *,
    dry_run: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[WriteOutcome]:
    """Strategic-merge patch a Deployment (containers merge by name, as `kubectl patch` does)."""
    if not isinstance(patch, Mapping) or not patch:
        raise ValueError("patch must be a non-empty mapping (a strategic-merge patch object)")
    body = dict(patch)
    request = WriteRequest("patch", namespace, "Deployment", name, patch=body)

    def run() -> WriteOutcome:
        decision = enforce(guard, request)
        before = read_object(kube, "Deployment", namespace, name)
        after = _send_patch(kube, "Deployment", namespace, name, body, STRATEGIC_MERGE, dry_run)
        return _outcome(request, decision, dry_run, before, after, body)

    args = {"namespace": namespace, "name": name, "patch": body, "dry_run": dry_run}
    return _run(kube, PATCH_TOOL, args, run, sink)


def scale(
    kube: KubeClient,
    guard: PolicyGuard,
    namespace: str,
    name: str,
    replicas: int,
    *,
    kind: str = "Deployment",
    dry_run: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[WriteOutcome]:
    """Set `spec.replicas` of a Deployment or StatefulSet."""
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
        raise ValueError(f"replicas must be a non-negative integer, got {replicas!r}")
    check_kind(kind, ("Deployment", "StatefulSet"))
    body = {"spec": {"replicas": replicas}}
    request = WriteRequest("scale", namespace, kind, name, patch=body, parameters={"replicas": replicas})

    def run() -> WriteOutcome:
        decision = enforce(guard, request)
        before = read_object(kube, kind, namespace, name)
        after = _send_patch(kube, kind, namespace, name, body, MERGE, dry_run)
        return _outcome(request, decision, dry_run, before, after, body)

    args = {"namespace": namespace, "kind": kind, "name": name, "replicas": replicas, "dry_run": dry_run}
    return _run(kube, SCALE_TOOL, args, run, sink)


def rollout_restart(
    kube: KubeClient,
    guard: PolicyGuard,
    namespace: str,
    name: str,
    *,
    kind: str = "Deployment",
    now: datetime | None = None,
    dry_run: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[WriteOutcome]:
    """`kubectl rollout restart`: stamp `kubectl.kubernetes.io/restartedAt` on the pod template."""
    check_kind(kind, ("Deployment", "StatefulSet", "DaemonSet"))
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}
    request = WriteRequest("restart", namespace, kind, name, patch=body)

    def run() -> WriteOutcome:
        decision = enforce(guard, request)
        before = read_object(kube, kind, namespace, name)
        if (before.get("spec") or {}).get("paused"):
            raise ToolFailure(f"can't restart paused {kind.lower()} {namespace}/{name} (resume it first)")
        after = _send_patch(kube, kind, namespace, name, body, STRATEGIC_MERGE, dry_run)
        return _outcome(request, decision, dry_run, before, after, body)

    args = {"namespace": namespace, "kind": kind, "name": name, "restarted_at": stamp, "dry_run": dry_run}
    return _run(kube, RESTART_TOOL, args, run, sink)


def _rollback_annotations(deployment: Obj, replica_set: Obj) -> dict[str, str]:
    current = (deployment.get("metadata") or {}).get("annotations") or {}
    from_rs = (replica_set.get("metadata") or {}).get("annotations") or {}
    kept = {k: v for k, v in current.items() if k in _ROLLBACK_KEEP_ANNOTATIONS}
    return {**kept, **{k: v for k, v in from_rs.items() if k not in _ROLLBACK_KEEP_ANNOTATIONS}}


def _same_template(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    def norm(t: Mapping[str, Any]) -> Any:
        return clean_manifest({"spec": {"template": dict(t)}}).get("spec", {}).get("template", {})

    return bool(norm(a) == norm(b))


def rollout_undo(
    kube: KubeClient,
    guard: PolicyGuard,
    namespace: str,
    name: str,
    *,
    to_revision: int | None = None,
    dry_run: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[WriteOutcome]:
    """`kubectl rollout undo`: copy a revision's pod template (minus pod-template-hash) into the Deployment.

    `to_revision=None` (or 0) returns to the previous revision. The guard sees the action
    `rollback` with `parameters={"revision": n}` once the target revision is known. When the
    Deployment already runs that template nothing is sent and the outcome says so.
    """
    if to_revision is not None and (isinstance(to_revision, bool) or not isinstance(to_revision, int)):
        raise ValueError(f"to_revision must be an integer, got {to_revision!r}")
    if to_revision is not None and to_revision < 0:
        raise ValueError("to_revision must not be negative")

    def run() -> WriteOutcome:
        deployment = read_object(kube, "Deployment", namespace, name)
        if (deployment.get("spec") or {}).get("paused"):
            raise ToolFailure(f"you cannot rollback a paused deployment {namespace}/{name}; resume it first")
        replica_sets = replica_sets_of(kube, deployment)
        history = history_of(deployment, replica_sets)
        target = history.get(to_revision) if to_revision else history.previous
        if target is None:
            wanted = f"revision {to_revision}" if to_revision else "a previous revision"
            known = ", ".join(str(r.revision) for r in history.revisions) or "none"
            raise ToolFailure(f"unable to find {wanted} of deployment {namespace}/{name} (known: {known})")
        request = WriteRequest(
            "rollback", namespace, "Deployment", name, parameters={"revision": target.revision}
        )
        decision = enforce(guard, request)
        current_template = (deployment.get("spec") or {}).get("template") or {}
        if _same_template(current_template, target.template):
            note = f"skipped rollback (current template already matches revision {target.revision})"
            return _outcome(request, decision, dry_run, deployment, deployment, None, note)
        rs = next(r for r in replica_sets if r["metadata"]["name"] == target.replica_set)
        body = [
            {"op": "replace", "path": "/spec/template", "value": pod_template_of(rs)},
            {
                "op": "replace",
                "path": "/metadata/annotations",
                "value": _rollback_annotations(deployment, rs),
            },
        ]
        after = _send_patch(kube, "Deployment", namespace, name, body, JSON_PATCH, dry_run)
        return _outcome(request, decision, dry_run, deployment, after, body, f"to revision {target.revision}")

    args = {"namespace": namespace, "name": name, "to_revision": to_revision, "dry_run": dry_run}
    return _run(kube, ROLLBACK_TOOL, args, run, sink)


def delete_pod(
    kube: KubeClient,
    guard: PolicyGuard,
    namespace: str,
    pod: str,
    *,
    require_controller: bool = True,
    grace_period_seconds: int | None = None,
    dry_run: bool = False,
    sink: TraceSink = discard,
) -> ToolResult[WriteOutcome]:
    """Delete a pod so its controller replaces it.

    With `require_controller` (the default) a pod nothing would recreate is refused.
    """
    if grace_period_seconds is not None and grace_period_seconds < 0:
        raise ValueError("grace_period_seconds must not be negative")
    request = WriteRequest("delete_pod", namespace, "Pod", pod)

    def run() -> WriteOutcome:
        decision = enforce(guard, request)
        before = read_object(kube, "Pod", namespace, pod)
        if require_controller and controller_of(before) is None:
            raise ToolFailure(f"pod {namespace}/{pod} has no controller; deleting it would lose it for good")
        kube.json(
            f"delete pod {namespace}/{pod}",
            kube.core.delete_namespaced_pod,
            pod,
            namespace,
            dry_run=_dry(dry_run),
            grace_period_seconds=grace_period_seconds,
        )
        # The API answers with the pod (terminating, or untouched in a dry run) or a Status; either way the
        # pod is gone (or would be) once its grace period ends, so "after" is empty.
        note = "would be deleted" if dry_run else "deleted"
        return _outcome(request, decision, dry_run, before, None, None, note)

    args = {
        "namespace": namespace,
        "pod": pod,
        "dry_run": dry_run,
        "grace_period_seconds": grace_period_seconds,
    }
    return _run(kube, DELETE_POD_TOOL, args, run, sink)
