"""Whether a pod may go to a node by the node's labels and taints: nodeSelector, required node
affinity (matchExpressions and matchFields), tolerations. Shared by the scheduler and the DaemonSet
controller."""

from __future__ import annotations

from typing import Any

from sandbox.store import Obj

# What the DaemonSet controller adds to its pods so they run on nodes under pressure or not ready.
DAEMONSET_TOLERATIONS: list[dict[str, Any]] = [
    {"key": f"node.kubernetes.io/{taint}", "operator": "Exists", "effect": effect}
    for taint, effect in (
        ("not-ready", "NoExecute"),
        ("unreachable", "NoExecute"),
        ("disk-pressure", "NoSchedule"),
        ("memory-pressure", "NoSchedule"),
        ("pid-pressure", "NoSchedule"),
        ("unschedulable", "NoSchedule"),
    )
]


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    """Whether some toleration matches the taint (key, operator Equal/Exists, value, effect)."""
    for tol in tolerations or []:
        if tol.get("effect") and tol.get("effect") != taint.get("effect"):
            continue
        operator = tol.get("operator") or "Equal"
        if not tol.get("key"):
            if operator == "Exists":
                return True
            continue
        if tol.get("key") != taint.get("key"):
            continue
        if operator == "Exists" or tol.get("value", "") == taint.get("value", ""):
            return True
    return False


def untolerated_taint(
    pod_spec: Obj, node: Obj, effects: tuple[str, ...] = ("NoSchedule", "NoExecute")
) -> Obj | None:
    """The first NoSchedule/NoExecute taint of the node the pod does not tolerate."""
    tolerations = pod_spec.get("tolerations") or []
    for taint in (node.get("spec") or {}).get("taints") or []:
        if taint.get("effect") in effects and not tolerates(tolerations, taint):
            return taint
    return None


def _requirement(labels: dict[str, str], req: dict[str, Any]) -> bool:
    key, op, values = req.get("key", ""), req.get("operator", ""), req.get("values") or []
    present = key in labels
    value = labels.get(key)
    if op == "In":
        return present and value in values
    if op == "NotIn":
        return not present or value not in values
    if op == "Exists":
        return present
    if op == "DoesNotExist":
        return not present
    if op in ("Gt", "Lt") and present and values:
        try:
            have, want = int(str(value)), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _term(node: Obj, term: dict[str, Any]) -> bool:
    labels = node["metadata"].get("labels") or {}
    fields = {"metadata.name": node["metadata"]["name"]}
    exprs, field_exprs = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not field_exprs:
        return False  # an empty term matches nothing
    return all(_requirement(labels, r) for r in exprs) and all(_requirement(fields, r) for r in field_exprs)


def matches_node(pod_spec: Obj, node: Obj) -> bool:
    """nodeSelector and required node affinity (terms are ORed, requirements ANDed)."""
    labels = node["metadata"].get("labels") or {}
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required:
        return any(_term(node, t) for t in required.get("nodeSelectorTerms") or [])
    return True


def label_selector_matches(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels + matchExpressions); a nil selector matches nothing, {} everything."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    return all(_requirement(labels, r) for r in selector.get("matchExpressions") or [])
