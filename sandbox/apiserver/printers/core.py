"""Rows of the core kinds: Events, Nodes, Services, Namespaces, ConfigMaps, Secrets, ServiceAccounts,
Endpoints, Leases and CRDs."""

from __future__ import annotations

from datetime import datetime

from sandbox.apiserver.printers.common import Obj, Printer, Row, age, col


def _event_row(ev: Obj, now: datetime) -> Row:
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
    col("Last Seen"),
    col("Type"),
    col("Reason"),
    col("Object"),
    col("Message"),
    col("Source", priority=1),
    col("Count", "integer", priority=1),
    col("Name", priority=1, fmt="name"),
]


def _node_row(node: Obj, now: datetime) -> Row:
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


NODE_COLUMNS = [col("Name", fmt="name"), col("Status"), col("Roles"), col("Age"), col("Version")]


def _service_row(svc: Obj, now: datetime) -> Row:
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
    col("Name", fmt="name"),
    col("Type"),
    col("Cluster-IP"),
    col("External-IP"),
    col("Port(s)"),
    col("Age"),
    col("Selector", priority=1),
]


def _namespace_row(ns: Obj, now: datetime) -> Row:
    return [
        ns["metadata"]["name"],
        (ns.get("status") or {}).get("phase", "Active"),
        age(ns["metadata"].get("creationTimestamp"), now),
    ]


NAMESPACE_COLUMNS = [col("Name", fmt="name"), col("Status"), col("Age")]


def _configmap_row(cm: Obj, now: datetime) -> Row:
    data = len(cm.get("data") or {}) + len(cm.get("binaryData") or {})
    return [cm["metadata"]["name"], data, age(cm["metadata"].get("creationTimestamp"), now)]


CONFIGMAP_COLUMNS = [col("Name", fmt="name"), col("Data", "integer"), col("Age")]


def _secret_row(secret: Obj, now: datetime) -> Row:
    data = len(secret.get("data") or {}) + len(secret.get("stringData") or {})
    return [
        secret["metadata"]["name"],
        secret.get("type", "Opaque"),
        data,
        age(secret["metadata"].get("creationTimestamp"), now),
    ]


SECRET_COLUMNS = [col("Name", fmt="name"), col("Type"), col("Data", "integer"), col("Age")]


def _serviceaccount_row(sa: Obj, now: datetime) -> Row:
    return [
        sa["metadata"]["name"],
        len(sa.get("secrets") or []),
        age(sa["metadata"].get("creationTimestamp"), now),
    ]


SERVICEACCOUNT_COLUMNS = [col("Name", fmt="name"), col("Secrets", "integer"), col("Age")]


def _lease_row(lease: Obj, now: datetime) -> Row:
    holder = (lease.get("spec") or {}).get("holderIdentity") or ""
    return [lease["metadata"]["name"], holder, age(lease["metadata"].get("creationTimestamp"), now)]


LEASE_COLUMNS = [col("Name", fmt="name"), col("Holder"), col("Age")]


def _crd_row(crd: Obj, now: datetime) -> Row:
    return [crd["metadata"]["name"], crd["metadata"].get("creationTimestamp", "")]


CRD_COLUMNS = [col("Name", fmt="name"), col("Created At", "date")]


def _endpoints_row(ep: Obj, now: datetime) -> Row:
    addresses = [
        f"{a.get('ip')}:{p.get('port')}"
        for subset in ep.get("subsets") or []
        for a in subset.get("addresses") or []
        for p in subset.get("ports") or [{}]
    ]
    text = ",".join(addresses[:3]) + (f" + {len(addresses) - 3} more..." if len(addresses) > 3 else "")
    return [ep["metadata"]["name"], text or "<none>", age(ep["metadata"].get("creationTimestamp"), now)]


PRINTERS: dict[str, Printer] = {
    "/events": (EVENT_COLUMNS, _event_row),
    "/nodes": (NODE_COLUMNS, _node_row),
    "/services": (SERVICE_COLUMNS, _service_row),
    "/namespaces": (NAMESPACE_COLUMNS, _namespace_row),
    "/configmaps": (CONFIGMAP_COLUMNS, _configmap_row),
    "/secrets": (SECRET_COLUMNS, _secret_row),
    "/serviceaccounts": (SERVICEACCOUNT_COLUMNS, _serviceaccount_row),
    "/endpoints": ([col("Name", fmt="name"), col("Endpoints"), col("Age")], _endpoints_row),
    "coordination.k8s.io/leases": (LEASE_COLUMNS, _lease_row),
    "apiextensions.k8s.io/customresourcedefinitions": (CRD_COLUMNS, _crd_row),
}
