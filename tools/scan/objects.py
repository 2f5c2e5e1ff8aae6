"""Reading Kubernetes objects (as JSON dicts) the way the checks need them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Obj = dict[str, Any]


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object's metadata (empty when absent or malformed)."""
    value = obj.get("metadata")
    return value if isinstance(value, dict) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    """metadata.name."""
    return str(meta(obj).get("name") or "")


def namespace_of(obj: Mapping[str, Any]) -> str:
    """metadata.namespace."""
    return str(meta(obj).get("namespace") or "")


def labels_of(obj: Mapping[str, Any]) -> dict[str, str]:
    """metadata.labels."""
    value = meta(obj).get("labels")
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def dig(obj: Any, *path: str) -> Any:
    """obj[path[0]][path[1]]..., or None as soon as a step is missing or not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def dicts(value: Any) -> list[Obj]:
    """The dict entries of a list (anything else reads as empty)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def pod_template(workload: Mapping[str, Any]) -> Obj:
    """A workload's pod template (`spec.template`); a Pod's own manifest for a Pod."""
    template = dig(workload, "spec", "template")
    return template if isinstance(template, dict) else {}


def pod_spec(obj: Mapping[str, Any]) -> Obj:
    """The pod spec of a workload (its template's) or of a Pod."""
    spec = dig(pod_template(obj), "spec") if obj.get("kind") != "Pod" else obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def containers(obj: Mapping[str, Any]) -> list[Obj]:
    """The (non-init) containers of a workload's pod template or a Pod."""
    return dicts(pod_spec(obj).get("containers"))


def all_containers(obj: Mapping[str, Any]) -> Iterator[Obj]:
    """Init containers, then containers."""
    spec = pod_spec(obj)
    yield from dicts(spec.get("initContainers"))
    yield from dicts(spec.get("containers"))


def label_text(labels: Mapping[str, Any], sep: str = ",") -> str:
    """Labels or a plain selector as `kubectl` writes them (`app=web,tier=db`), sorted by key."""
    return sep.join(f"{k}={v}" for k, v in sorted(labels.items()))


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """Whether a label selector (`matchLabels`/`matchExpressions`, or a Service's plain map) matches."""
    if not isinstance(selector, dict) or not selector:
        return False
    if "matchLabels" not in selector and "matchExpressions" not in selector:
        return all(labels.get(str(k)) == str(v) for k, v in selector.items())
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict) or any(
        labels.get(str(k)) != str(v) for k, v in match_labels.items()
    ):
        return False
    for expression in dicts(selector.get("matchExpressions")):
        key, operator = str(expression.get("key")), expression.get("operator")
        values = {str(v) for v in expression.get("values") or []}
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def replicas_of(workload: Mapping[str, Any]) -> int | None:
    """spec.replicas of a Deployment or StatefulSet (1 when unset); None for a DaemonSet."""
    if workload.get("kind") == "DaemonSet":
        return None
    value = dig(workload, "spec", "replicas")
    return value if isinstance(value, int) and not isinstance(value, bool) else 1
