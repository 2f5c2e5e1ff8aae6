"""Server-side printing: the `meta.k8s.io/v1 Table` kubectl asks for, with kubectl's usual columns."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from sandbox.store import ResourceType

Row = list[Any]


def _col(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    return {"name": name, "type": type_, "format": fmt, "description": "", "priority": priority}


def age(timestamp: str | None, now: datetime) -> str:
    """kubectl's short human duration: 5s, 3m, 2h, 4d."""
    if not timestamp:
        return "<unknown>"
    try:
        then = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return "<unknown>"
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 48:
        return f"{hours}h{minutes % 60}m" if hours < 8 and minutes % 60 else f"{hours}h"
    return f"{hours // 24}d"


def pod_status_reason(pod: dict[str, Any]) -> str:
    """What kubectl prints in STATUS: a waiting/terminated reason beats the phase."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    for cs in status.get("initContainerStatuses") or []:
        state = cs.get("state") or {}
        if "waiting" in state and state["waiting"].get("reason") not in (None, "PodInitializing"):
            return f"Init:{state['waiting']['reason']}"
    for cs in reversed(status.get("containerStatuses") or []):
        state = cs.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif state.get("terminated", {}).get("reason"):
            reason = state["terminated"]["reason"]
        elif "terminated" in state:
            code = state["terminated"].get("exitCode", 0)
            reason = f"ExitCode:{code}"
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_row(pod: dict[str, Any], now: datetime) -> Row:
    status = pod.get("status") or {}
    statuses = status.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = sum(1 for cs in statuses if cs.get("ready"))
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    last = max(
        (
            (cs.get("lastState") or {}).get("terminated", {}).get("finishedAt") or ""
            for cs in statuses
            if (cs.get("lastState") or {}).get("terminated")
        ),
        default="",
    )
    restart_text = f"{restarts} ({age(last, now)} ago)" if restarts and last else str(restarts)
    return [
        pod["metadata"]["name"],
        f"{ready}/{total}",
        pod_status_reason(pod),
        restart_text,
        age(pod["metadata"].get("creationTimestamp"), now),
        status.get("podIP") or "<none>",
        (pod.get("spec") or {}).get("nodeName") or "<none>",
        "<none>",
        "<none>",
    ]


POD_COLUMNS = [
    _col("Name", fmt="name"),
    _col("Ready"),
    _col("Status"),
    _col("Restarts"),
    _col("Age"),
    _col("IP", priority=1),
    _col("Node", priority=1),
    _col("Nominated Node", priority=1),
    _col("Readiness Gates", priority=1),
]


def _containers(obj: dict[str, Any]) -> tuple[str, str]:
    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _selector(obj: dict[str, Any]) -> str:
    labels = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in labels.items()) or "<none>"


def _deployment_row(obj: dict[str, Any], now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(obj),
    ]


DEPLOYMENT_COLUMNS = [
    _col("Name", fmt="name"),
    _col("Ready"),
    _col("Up-to-date", "integer"),
    _col("Available", "integer"),
    _col("Age"),
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _replicaset_row(obj: dict[str, Any], now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = _containers(obj)
    return [
        obj["metadata"]["name"],
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(obj),
    ]


REPLICASET_COLUMNS = [
    _col("Name", fmt="name"),
    _col("Desired", "integer"),
    _col("Current", "integer"),
    _col("Ready", "integer"),
    _col("Age"),
    _col("Containers", priority=1),
    _col("Images", priority=1),
    _col("Selector", priority=1),
]


def _event_row(ev: dict[str, Any], now: datetime) -> Row:
    involved = ev.get("involvedObject") or {}
    last = ev.get("lastTimestamp") or ev.get("eventTime") or ev.get("firstTimestamp")
    if isinstance(last, str) and "." in last:
        last = last.split(".")[0] + "Z"
    return [
        age(last, now),
        ev.get("type", ""),
        ev.get("reason", ""),
        f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '')}",
        ev.get("message", ""),
        (ev.get("source") or {}).get("component", ""),
        ev.get("count", 1),
        ev["metadata"]["name"],
    ]


EVENT_COLUMNS = [
    _col("Last Seen"),
    _col("Type"),
    _col("Reason"),
    _col("Object"),
    _col("Message"),
    _col("Source", priority=1),
    _col("Count", "integer", priority=1),
    _col("Name", priority=1, fmt="name"),
]


def _node_row(node: dict[str, Any], now: datetime) -> Row:
    conditions = {c.get("type"): c.get("status") for c in (node.get("status") or {}).get("conditions") or []}
    status = "Ready" if conditions.get("Ready") == "True" else "NotReady"
    if (node.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    info = (node.get("status") or {}).get("nodeInfo") or {}
    return [
        node["metadata"]["name"],
        status,
        "<none>",
        age(node["metadata"].get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
    ]


NODE_COLUMNS = [_col("Name", fmt="name"), _col("Status"), _col("Roles"), _col("Age"), _col("Version")]


def _service_row(svc: dict[str, Any], now: datetime) -> Row:
    spec = svc.get("spec") or {}
    ports = (
        ",".join(f"{p.get('port')}/{p.get('protocol', 'TCP')}" for p in spec.get("ports") or []) or "<none>"
    )
    return [
        svc["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP", "<none>"),
        "<none>",
        ports,
        age(svc["metadata"].get("creationTimestamp"), now),
        ",".join(f"{k}={v}" for k, v in (spec.get("selector") or {}).items()) or "<none>",
    ]


SERVICE_COLUMNS = [
    _col("Name", fmt="name"),
    _col("Type"),
    _col("Cluster-IP"),
    _col("External-IP"),
    _col("Port(s)"),
    _col("Age"),
    _col("Selector", priority=1),
]


def _namespace_row(ns: dict[str, Any], now: datetime) -> Row:
    return [
        ns["metadata"]["name"],
        (ns.get("status") or {}).get("phase", "Active"),
        age(ns["metadata"].get("creationTimestamp"), now),
    ]


NAMESPACE_COLUMNS = [_col("Name", fmt="name"), _col("Status"), _col("Age")]


def _configmap_row(cm: dict[str, Any], now: datetime) -> Row:
    data = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [cm["metadata"]["name"], data, age(cm["metadata"].get("creationTimestamp"), now)]


CONFIGMAP_COLUMNS = [_col("Name", fmt="name"), _col("Data", "integer"), _col("Age")]


def _secret_row(secret: dict[str, Any], now: datetime) -> Row:
    data = len(secret.get("data") or {}) + len(secret.get("stringData") or {})
    return [
        secret["metadata"]["name"],
        secret.get("type", "Opaque"),
        data,
        age(secret["metadata"].get("creationTimestamp"), now),
    ]


SECRET_COLUMNS = [_col("Name", fmt="name"), _col("Type"), _col("Data", "integer"), _col("Age")]


def _serviceaccount_row(sa: dict[str, Any], now: datetime) -> Row:
    return [
        sa["metadata"]["name"],
        len(sa.get("secrets") or []),
        age(sa["metadata"].get("creationTimestamp"), now),
    ]


SERVICEACCOUNT_COLUMNS = [_col("Name", fmt="name"), _col("Secrets", "integer"), _col("Age")]


def _lease_row(lease: dict[str, Any], now: datetime) -> Row:
    holder = (lease.get("spec") or {}).get("holderIdentity") or ""
    return [lease["metadata"]["name"], holder, age(lease["metadata"].get("creationTimestamp"), now)]


LEASE_COLUMNS = [_col("Name", fmt="name"), _col("Holder"), _col("Age")]


def _crd_row(crd: dict[str, Any], now: datetime) -> Row:
    return [crd["metadata"]["name"], crd["metadata"].get("creationTimestamp", "")]


CRD_COLUMNS = [_col("Name", fmt="name"), _col("Created At", "date")]


def _statefulset_row(sts: dict[str, Any], now: datetime) -> Row:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    names, images = _containers(sts)
    return [
        sts["metadata"]["name"],
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        age(sts["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


STATEFULSET_COLUMNS = [
    _col("Name", fmt="name"),
    _col("Ready"),
    _col("Age"),
    _col("Containers", priority=1),
    _col("Images", priority=1),
]


def _generic_row(obj: dict[str, Any], now: datetime) -> Row:
    return [obj["metadata"]["name"], age(obj["metadata"].get("creationTimestamp"), now)]


GENERIC_COLUMNS = [_col("Name", fmt="name"), _col("Age")]

_PRINTERS: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any], datetime], Row]]] = {
    "/pods": (POD_COLUMNS, _pod_row),
    "apps/deployments": (DEPLOYMENT_COLUMNS, _deployment_row),
    "apps/replicasets": (REPLICASET_COLUMNS, _replicaset_row),
    "/events": (EVENT_COLUMNS, _event_row),
    "/nodes": (NODE_COLUMNS, _node_row),
    "/services": (SERVICE_COLUMNS, _service_row),
    "/namespaces": (NAMESPACE_COLUMNS, _namespace_row),
    "/configmaps": (CONFIGMAP_COLUMNS, _configmap_row),
    "/secrets": (SECRET_COLUMNS, _secret_row),
    "/serviceaccounts": (SERVICEACCOUNT_COLUMNS, _serviceaccount_row),
    "coordination.k8s.io/leases": (LEASE_COLUMNS, _lease_row),
    "apiextensions.k8s.io/customresourcedefinitions": (CRD_COLUMNS, _crd_row),
    "apps/statefulsets": (STATEFULSET_COLUMNS, _statefulset_row),
}


def _json_path(obj: Any, path: str) -> Any:
    """Follow a CRD printer column's simple JSONPath (`.status.sync.status`, `.spec.items[0].name`)."""
    value = obj
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.strip().strip("{}")):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def _custom_cell(kind: str, value: Any, now: datetime) -> Any:
    # How apiextensions-apiserver renders a printer column's value for its declared type.
    if value is None:
        return None
    if kind == "date":
        return age(value, now) if isinstance(value, str) else "<invalid>"
    if kind == "integer":
        return value if isinstance(value, int) else None
    if kind == "number":
        return value if isinstance(value, int | float) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def custom_printer(
    printer_columns: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], Callable[[dict[str, Any], datetime], Row]]:
    """Columns and row function for a CRD version's additionalPrinterColumns (NAME comes first)."""
    columns = [_col("Name", fmt="name")] + [
        {
            "name": c.get("name", ""),
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": int(c.get("priority", 0)),
        }
        for c in printer_columns
    ]

    def row(obj: dict[str, Any], now: datetime) -> Row:
        return [obj["metadata"]["name"]] + [
            _custom_cell(c.get("type", "string"), _json_path(obj, c.get("jsonPath", "")), now)
            for c in printer_columns
        ]

    return columns, row


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """`PartialObjectMetadata`, what a Table row carries by default."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    rt: ResourceType,
    items: list[dict[str, Any]],
    resource_version: str,
    now: datetime,
    include: str = "Metadata",
    printer_columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Table of `items` with the columns kubectl shows for this resource.

    `printer_columns` are a custom resource's additionalPrinterColumns, from its CRD.
    """
    if printer_columns:
        columns, row = custom_printer(printer_columns)
    else:
        columns, row = _PRINTERS.get(rt.key, (GENERIC_COLUMNS, _generic_row))
    rows = []
    for obj in items:
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include == "Object":
            entry["object"] = obj
        elif include != "None":
            entry["object"] = partial_metadata(obj)
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
