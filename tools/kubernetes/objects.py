"""Fetching the objects the tools reason about: one object by kind, a workload's pods and ReplicaSets.

These helpers raise `ToolFailure` and are meant to run inside a tool's `call_tool` function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tools.kubernetes.client import KubeClient, Obj
from tools.result import ToolFailure

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job")
# What an investigation can target: the workloads, a CronJob (through its Jobs) and a bare Pod.
TARGET_KINDS = (*WORKLOAD_KINDS, "CronJob", "Pod")
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
POD_TEMPLATE_HASH = "pod-template-hash"
# The apiVersion of each kind Paramedic reads or names (list items come without one).
API_VERSIONS = {
    **{kind: "apps/v1" for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")},
    **{kind: "batch/v1" for kind in ("Job", "CronJob")},
    **{kind: "v1" for kind in ("Pod", "Service", "ConfigMap", "Secret")},
    "Application": "argoproj.io/v1alpha1",
    "Kustomization": "kustomize.toolkit.fluxcd.io/v1",
}


def _readers(kube: KubeClient) -> dict[str, Callable[..., Any]]:
    return {
        "Pod": kube.core.read_namespaced_pod,
        "Service": kube.core.read_namespaced_service,
        "ConfigMap": kube.core.read_namespaced_config_map,
        "Secret": kube.core.read_namespaced_secret,
        "Deployment": kube.apps.read_namespaced_deployment,
        "ReplicaSet": kube.apps.read_namespaced_replica_set,
        "StatefulSet": kube.apps.read_namespaced_stateful_set,
        "DaemonSet": kube.apps.read_namespaced_daemon_set,
        "Job": kube.batch.read_namespaced_job,
        "CronJob": kube.batch.read_namespaced_cron_job,
    }


READABLE_KINDS = ("Pod", "Service", "ConfigMap", "Secret", "ReplicaSet", "CronJob", *WORKLOAD_KINDS)


def check_kind(kind: str, allowed: Iterable[str]) -> str:
    """`kind` if it is one of `allowed`, else a clear `ToolFailure`."""
    allowed = tuple(allowed)
    if kind not in allowed:
        raise ToolFailure(f"unsupported kind {kind!r}; expected one of: {', '.join(allowed)}")
    return kind


def read_object(kube: KubeClient, kind: str, namespace: str, name: str) -> Obj:
    """GET one namespaced object of a supported kind, as the API server's JSON."""
    check_kind(kind, READABLE_KINDS)
    if not name or not namespace:
        raise ToolFailure("namespace and name must not be empty")
    obj = kube.json(f"get {kind.lower()} {namespace}/{name}", _readers(kube)[kind], name, namespace)
    # List items come without kind/apiVersion; single GETs normally carry them, but be sure.
    obj.setdefault("kind", kind)
    return obj


def label_selector(selector: Mapping[str, Any] | None) -> str:
    """A `LabelSelector` object as the query-string form (`a=b,c in (d,e),!f`)."""
    if not selector:
        raise ToolFailure("the workload has no selector; refusing to list every pod in the namespace")
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            raise ToolFailure(f"unknown label selector operator {op!r}")
    if not parts:
        raise ToolFailure("the workload's selector is empty; refusing to list every pod in the namespace")
    return ",".join(parts)


def controller_of(obj: Mapping[str, Any]) -> Obj | None:
    """The ownerReference marked `controller: true` (or the only owner), if any."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    for ref in refs:
        if ref.get("controller"):
            return dict(ref)
    return dict(refs[0]) if len(refs) == 1 else None


def uid_of(obj: Mapping[str, Any]) -> str:
    """metadata.uid ('' when absent)."""
    return str((obj.get("metadata") or {}).get("uid") or "")


def name_of(obj: Mapping[str, Any]) -> str:
    """metadata.name ('' when absent)."""
    return str((obj.get("metadata") or {}).get("name") or "")


def revision_of(obj: Mapping[str, Any]) -> int | None:
    """The `deployment.kubernetes.io/revision` annotation as an int, if present and numeric."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def owned_by(obj: Mapping[str, Any], uids: set[str]) -> bool:
    """True when the object's controller is one of `uids`."""
    ref = controller_of(obj)
    return ref is not None and ref.get("uid") in uids


def replica_sets_of(kube: KubeClient, deployment: Obj) -> list[Obj]:
    """The ReplicaSets a Deployment controls, oldest revision first."""
    namespace = deployment["metadata"]["namespace"]
    selector = label_selector((deployment.get("spec") or {}).get("selector"))
    listed = kube.json(
        f"list replicasets in {namespace}",
        kube.apps.list_namespaced_replica_set,
        namespace,
        label_selector=selector,
    )
    mine = [rs for rs in listed.get("items") or [] if owned_by(rs, {uid_of(deployment)})]
    for rs in mine:
        rs.setdefault("kind", "ReplicaSet")
    return sorted(mine, key=lambda rs: (revision_of(rs) or 0, name_of(rs)))


def jobs_of(kube: KubeClient, cronjob: Obj) -> list[Obj]:
    """The Jobs a CronJob created (still kept by its history limits), oldest first."""
    namespace = cronjob["metadata"]["namespace"]
    listed = kube.json(f"list jobs in {namespace}", kube.batch.list_namespaced_job, namespace)
    jobs = [job for job in listed.get("items") or [] if owned_by(job, {uid_of(cronjob)})]
    for job in jobs:
        job.setdefault("kind", "Job")
    return sorted(
        jobs, key=lambda j: (str((j.get("metadata") or {}).get("creationTimestamp") or ""), name_of(j))
    )


def pods_of(kube: KubeClient, workload: Obj, replica_sets: list[Obj] | None = None) -> list[Obj]:
    """The pods a workload controls (through its ReplicaSets for a Deployment), sorted by name."""
    namespace = workload["metadata"]["namespace"]
    spec_selector = (workload.get("spec") or {}).get("selector")
    if not spec_selector and workload.get("kind") == "Job":
        # The API server generates a Job's selector; a Job read before that (or from a manifest) still
        # labels its pods with its name. Ownership below keeps only this Job's pods either way.
        spec_selector = {"matchLabels": {"job-name": name_of(workload)}}
    selector = label_selector(spec_selector)
    listed = kube.json(
        f"list pods in {namespace}", kube.core.list_namespaced_pod, namespace, label_selector=selector
    )
    if workload.get("kind") == "Deployment":
        rss = replica_sets if replica_sets is not None else replica_sets_of(kube, workload)
        owners = {uid_of(rs) for rs in rss}
    else:
        owners = {uid_of(workload)}
    pods = [pod for pod in listed.get("items") or [] if owned_by(pod, owners)]
    for pod in pods:
        pod.setdefault("kind", "Pod")
    return sorted(pods, key=name_of)
