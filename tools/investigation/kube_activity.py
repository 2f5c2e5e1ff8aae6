"""What happened to Kubernetes objects, for an investigator: container logs (current or previous
instance, tail and grep), an object's events, and a Deployment's rollout history."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tools.investigation.catalogue import Backends, ToolArgs, ToolSpec, unwrap
from tools.kubernetes import KubeClient, fold_events, pod_logs, rollout_history, workload_events
from tools.kubernetes.objects import WORKLOAD_KINDS
from tools.redaction import redact
from tools.result import ToolFailure

_NAME = r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$"
EventKind = Literal[
    "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet", "Pod", "Service", "ConfigMap",
    "Secret", "PersistentVolumeClaim",
]  # fmt: skip


class LogsArgs(ToolArgs):
    """The tail of a pod's container log; previous=true: the instance that crashed before. `grep`
    keeps lines containing that text (case-insensitive)."""

    namespace: str = Field(max_length=63)
    pod: str = Field(pattern=_NAME, max_length=253)
    container: str | None = Field(default=None, max_length=253)
    previous: bool = False
    tail: int = Field(default=80, ge=1, le=1000)
    grep: str | None = Field(default=None, min_length=1, max_length=200)


class EventsArgs(ToolArgs):
    """Recent events of an object, newest first (a workload's include its ReplicaSets' and pods', a
    CronJob's its Jobs' and their pods')."""

    kind: EventKind
    namespace: str = Field(max_length=63)
    name: str = Field(pattern=_NAME, max_length=253)
    limit: int = Field(default=15, ge=1, le=50)


class RolloutArgs(ToolArgs):
    """A Deployment's revisions, oldest first, each with its containers (image, command, env,
    resources, probes): what changed between them."""

    namespace: str = Field(max_length=63)
    deployment: str = Field(pattern=_NAME, max_length=253)


def events_of(kube: KubeClient, kind: str, namespace: str, name: str, limit: int) -> list[dict[str, Any]]:
    """Folded events about an object (a workload: its ReplicaSets and pods too; a CronJob: its Jobs and
    their pods), newest first."""
    if kind in WORKLOAD_KINDS or kind == "CronJob":
        records = unwrap(workload_events(kube, namespace, kind, name, limit=limit))
    else:
        listed = kube.json(f"list events in {namespace}", kube.core.list_namespaced_event, namespace)
        about = [
            e
            for e in listed.get("items") or []
            if (e.get("involvedObject") or {}).get("kind") == kind
            and (e.get("involvedObject") or {}).get("name") == name
        ]
        records = fold_events(about)[:limit]
    return [r.model_dump(exclude_defaults=True) for r in records]


def object_events(env: Backends, args: EventsArgs) -> Any:
    """The events tool."""
    limit = min(args.limit, env.limits.max_events)
    return {"events": events_of(env.cluster(), args.kind, args.namespace, args.name, limit)}


def container_logs(env: Backends, args: LogsArgs) -> Any:
    """The logs tool: the tail of each requested container instance, redacted, then filtered."""
    tail = min(args.tail, env.limits.max_tail_lines)
    logs = unwrap(pod_logs(env.cluster(), args.namespace, args.pod, tail_lines=tail, previous=args.previous))
    chosen = [lg for lg in logs.logs if lg.previous == args.previous]
    if args.container is not None:
        chosen = [lg for lg in chosen if lg.container == args.container]
        if not chosen:
            names = sorted({lg.container for lg in logs.logs})
            known = ", ".join(names)
            raise ToolFailure(f"pod {args.pod} has no container {args.container!r}; it has: {known}")
    out = []
    for log in chosen:
        entry: dict[str, Any] = {"container": log.container, "previous": log.previous}
        if not log.available:
            entry["unavailable"] = log.note
        else:
            # Redact before filtering: a grep for a guessed password must not tell whether it is there.
            lines = redact(log.text).splitlines()
            if args.grep is not None:
                needle = args.grep.lower()
                lines = [line for line in lines if needle in line.lower()]
            text, most = "\n".join(lines[-tail:]), env.limits.max_log_chars
            cut = len(text) > most
            if cut:  # keep the end of the log, where a crash is
                text = f"…[{len(text) - most} earlier chars cut]\n" + text[-most:]
            entry.update(lines=len(lines), text=text, truncated=cut)
        out.append(entry)
    return {"pod": args.pod, "logs": out}


def _container_view(container: dict[str, Any]) -> dict[str, Any]:
    keep = ("name", "image", "command", "args", "env", "envFrom", "resources", "ports",
            "readinessProbe", "livenessProbe", "startupProbe", "volumeMounts")  # fmt: skip
    return {k: container[k] for k in keep if k in container}


def deployment_rollouts(env: Backends, args: RolloutArgs) -> Any:
    """The rollout history tool."""
    history = unwrap(rollout_history(env.cluster(), args.namespace, args.deployment))
    revisions = []
    for rev in history.revisions:
        spec = rev.template.get("spec") or {}
        revisions.append(
            {
                "revision": rev.revision, "replica_set": rev.replica_set, "current": rev.current,
                "created": rev.created, "replicas": rev.replicas, "change_cause": rev.change_cause,
                "containers": [_container_view(c) for c in spec.get("containers") or []],
            }
        )  # fmt: skip
    current = history.current_revision
    return {"deployment": args.deployment, "current_revision": current, "revisions": revisions}


TOOLS = (
    ToolSpec("k8s_pod_logs", "kubernetes", LogsArgs, container_logs),
    ToolSpec("k8s_events", "kubernetes", EventsArgs, object_events),
    ToolSpec("k8s_rollout_history", "kubernetes", RolloutArgs, deployment_rollouts),
)
