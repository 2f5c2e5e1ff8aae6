"""Rows of the policy and networking kinds: ResourceQuotas, LimitRanges, NetworkPolicies, Ingresses,
IngressClasses, HorizontalPodAutoscalers, PodDisruptionBudgets, PriorityClasses."""

from __future__ import annotations

from datetime import datetime

from sandbox.apiserver.printers.common import Obj, Printer, Row, age, col, selector_text


def _quota(obj: Obj, now: datetime) -> Row:
    status = obj.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        text = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.startswith("limits") else requests).append(text)
    return [obj["metadata"]["name"], age(obj["metadata"].get("creationTimestamp"), now), ", ".join(requests),
            ", ".join(limits)]  # fmt: skip


def _limitrange(obj: Obj, now: datetime) -> Row:
    return [obj["metadata"]["name"], obj["metadata"].get("creationTimestamp", "")]


def _netpol(obj: Obj, now: datetime) -> Row:
    selector = (obj.get("spec") or {}).get("podSelector")
    return [
        obj["metadata"]["name"],
        selector_text(selector),
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


def _ingress(obj: Obj, now: datetime) -> Row:
    spec = obj.get("spec") or {}
    hosts = [r.get("host") or "*" for r in spec.get("rules") or []]
    lb = ((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress") or []
    address = ",".join(i.get("ip") or i.get("hostname") or "" for i in lb)
    return [
        obj["metadata"]["name"],
        spec.get("ingressClassName") or "<none>",
        ",".join(hosts) or "*",
        address,
        "80, 443" if spec.get("tls") else "80",
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


def _ingressclass(obj: Obj, now: datetime) -> Row:
    spec = obj.get("spec") or {}
    params = spec.get("parameters")
    params_text = f"{params.get('kind')}/{params.get('name')}" if params else "<none>"
    return [obj["metadata"]["name"], spec.get("controller", ""), params_text,
            age(obj["metadata"].get("creationTimestamp"), now)]  # fmt: skip


def _hpa(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    targets = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or metric.get("containerResource") or {}
        target = resource.get("target") or {}
        if target.get("averageUtilization") is not None:
            targets.append(f"{resource.get('name')}: <unknown>/{target['averageUtilization']}%")
        elif target.get("averageValue") is not None:
            targets.append(f"{resource.get('name')}: <unknown>/{target['averageValue']}")
        else:
            targets.append("<unknown>")
    return [
        obj["metadata"]["name"],
        f"{ref.get('kind')}/{ref.get('name')}",
        ", ".join(targets) or "<none>",
        spec.get("minReplicas", 1),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


def _pdb(obj: Obj, now: datetime) -> Row:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        obj["metadata"]["name"],
        str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
        str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
        status.get("disruptionsAllowed", 0),
        age(obj["metadata"].get("creationTimestamp"), now),
    ]


def _priorityclass(obj: Obj, now: datetime) -> Row:
    return [
        obj["metadata"]["name"],
        obj.get("value", 0),
        bool(obj.get("globalDefault", False)),
        age(obj["metadata"].get("creationTimestamp"), now),
        obj.get("preemptionPolicy", "PreemptLowerPriority"),
    ]


PRINTERS: dict[str, Printer] = {
    "/resourcequotas": ([col("Name", fmt="name"), col("Age"), col("Request"), col("Limit")], _quota),
    "/limitranges": ([col("Name", fmt="name"), col("Created At", "date")], _limitrange),
    "networking.k8s.io/networkpolicies": (
        [col("Name", fmt="name"), col("Pod-Selector"), col("Age")], _netpol
    ),
    "networking.k8s.io/ingresses": (
        [col("Name", fmt="name"), col("Class"), col("Hosts"), col("Address"), col("Ports"), col("Age")],
        _ingress,
    ),
    "networking.k8s.io/ingressclasses": (
        [col("Name", fmt="name"), col("Controller"), col("Parameters"), col("Age")], _ingressclass
    ),
    "autoscaling/horizontalpodautoscalers": (
        [col("Name", fmt="name"), col("Reference"), col("Targets"), col("MinPods", "integer"),
         col("MaxPods", "integer"), col("Replicas", "integer"), col("Age")],
        _hpa,
    ),
    "policy/poddisruptionbudgets": (
        [col("Name", fmt="name"), col("Min Available"), col("Max Unavailable"),
         col("Allowed Disruptions", "integer"), col("Age")],
        _pdb,
    ),
    "scheduling.k8s.io/priorityclasses": (
        [col("Name", fmt="name"), col("Value", "integer"), col("Global-Default", "boolean"), col("Age"),
         col("PreemptionPolicy")],
        _priorityclass,
    ),
}  # fmt: skip
