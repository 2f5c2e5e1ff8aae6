"""Rows of the workload kinds: Deployments, ReplicaSets, StatefulSets, DaemonSets, Jobs, CronJobs and
ControllerRevisions."""

from __future__ import annotations

from datetime import datetime

from sandbox.apiserver.printers.common import (
    Obj,
    Printer,
    Row,
    age,
    col,
    human_duration,
    labels_text,
    parse_time,
    selector_text,
    since,
    template_containers,
)


def _deployment(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_text(spec.get("selector")),
    ]


def _replicaset(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(obj)
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_text(spec.get("selector")),
    ]


def _statefulset(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


def _daemonset(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(obj)
    node_selector = ((spec.get("template") or {}).get("spec") or {}).get("nodeSelector")
    return [
        obj["metadata"]["name"],
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        labels_text(node_selector),
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_text(spec.get("selector")),
    ]


def _has_condition(obj: Obj, type_: str) -> bool:
    return any(
        c.get("type") == type_ and c.get("status") == "True"
        for c in (obj.get("status") or {}).get("conditions") or []
    )


def job_status(obj: Obj) -> str:
    """The STATUS column of a Job (kubectl 1.30+)."""
    if _has_condition(obj, "Complete"):
        return "Complete"
    if _has_condition(obj, "Failed"):
        return "Failed"
    if obj["metadata"].get("deletionTimestamp"):
        return "Terminating"
    if _has_condition(obj, "Suspended"):
        return "Suspended"
    if _has_condition(obj, "FailureTarget"):
        return "FailureTarget"
    if _has_condition(obj, "SuccessCriteriaMet"):
        return "SuccessCriteriaMet"
    return "Running"


def _job(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif int(spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = status.get("startTime"), status.get("completionTime")
    started = parse_time(start)
    if started is None:
        duration = ""
    elif end:
        duration = since(start, end)
    else:
        duration = human_duration((now - started).total_seconds())
    names, images = template_containers(obj)
    return [
        obj["metadata"]["name"],
        job_status(obj),
        completions,
        duration,
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_text(spec.get("selector")),
    ]


def _cronjob(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = (spec.get("jobTemplate") or {}).get("spec") or {}
    names, images = template_containers({"spec": template})
    last = status.get("lastScheduleTime")
    return [
        obj["metadata"]["name"],
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "True" if spec.get("suspend") else "False",
        len(status.get("active") or []),
        age(last, now) if last else "<none>",
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        selector_text(template.get("selector")),
    ]


def _controllerrevision(obj: Obj, now: datetime) -> Row:
    owner = next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)
    controller = (
        f"{owner['kind'].lower()}.{owner['apiVersion'].split('/')[0]}/{owner['name']}" if owner else "<none>"
    )
    return [
        obj["metadata"]["name"],
        controller,
        obj.get("revision", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


_WIDE = [col("Containers", priority=1), col("Images", priority=1), col("Selector", priority=1)]
PRINTERS: dict[str, Printer] = {
    "apps/deployments": (
        [col("Name", fmt="name"), col("Ready"), col("Up-to-date", "integer"), col("Available", "integer"),
         col("Age"), *_WIDE],
        _deployment,
    ),
    "apps/replicasets": (
        [col("Name", fmt="name"), col("Desired", "integer"), col("Current", "integer"),
         col("Ready", "integer"), col("Age"), *_WIDE],
        _replicaset,
    ),
    "apps/statefulsets": ([col("Name", fmt="name"), col("Ready"), col("Age"), *_WIDE[:2]], _statefulset),
    "apps/daemonsets": (
        [col("Name", fmt="name"), col("Desired", "integer"), col("Current", "integer"),
         col("Ready", "integer"), col("Up-to-date", "integer"), col("Available", "integer"),
         col("Node Selector"), col("Age"), *_WIDE],
        _daemonset,
    ),
    "batch/jobs": (
        [col("Name", fmt="name"), col("Status"), col("Completions"), col("Duration"), col("Age"), *_WIDE],
        _job,
    ),
    "batch/cronjobs": (
        [col("Name", fmt="name"), col("Schedule"), col("Timezone"), col("Suspend", "boolean"),
         col("Active", "integer"), col("Last Schedule"), col("Age"), *_WIDE],
        _cronjob,
    ),
    "apps/controllerrevisions": (
        [col("Name", fmt="name"), col("Controller"), col("Revision", "integer"), col("Age")],
        _controllerrevision,
    ),
}  # fmt: skip
