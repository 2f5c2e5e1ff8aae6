"""A Service pointing at a port no selected container exposes. Pure, like `detect`.

A named `targetPort` must name a `containerPort` of the selected pods, or the endpoints carry no
port for it. A numeric `targetPort` works even when undeclared (declaring ports is informational),
so it is only a finding when the selected containers declare ports and none of them is that one.
Pods still starting, a Service with no selector, or no matching pod at all (`detect_service`'s
business) yield nothing here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import NOTHING, Detection, Finding
from server.watcher.detect_service import selects, service_selector

PORT_NOT_EXPOSED = "ServicePortNotExposed"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _container_ports(pod: Mapping[str, Any]) -> tuple[set[int], set[str]]:
    numbers: set[int] = set()
    names: set[str] = set()
    for container in _map(pod.get("spec")).get("containers") or []:
        for port in _map(container).get("ports") or []:
            port = _map(port)
            if isinstance(port.get("containerPort"), int):
                numbers.add(port["containerPort"])
            if isinstance(port.get("name"), str):
                names.add(port["name"])
    return numbers, names


def detect_ports(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> Detection:
    """A finding on the Service when a `targetPort` is exposed by none of the pods it selects."""
    if not isinstance(service, Mapping):
        return NOTHING
    metadata = _map(service.get("metadata"))
    namespace, name = metadata.get("namespace"), metadata.get("name")
    selector = service_selector(service)
    if selector is None or not isinstance(namespace, str) or not isinstance(name, str) or not name:
        return NOTHING
    selected = [p for p in pods if selects(selector, _map(_map(p.get("metadata")).get("labels")))]
    if not selected:
        return NOTHING
    numbers: set[int] = set()
    names: set[str] = set()
    for pod in selected:
        n, m = _container_ports(pod)
        numbers |= n
        names |= m
    missing: list[str] = []
    for port in _map(service.get("spec")).get("ports") or []:
        port = _map(port)
        target = port.get("targetPort", port.get("port"))
        label = port.get("name") or port.get("port")
        if isinstance(target, str) and not target.isdigit():
            if target not in names:
                missing.append(f"{label} -> {target!r} (no container port of that name)")
        elif isinstance(target, (int, str)) and numbers and int(target) not in numbers:
            missing.append(f"{label} -> {target} (containers expose {sorted(numbers)})")
    if not missing:
        return NOTHING
    ref = WorkloadRef(namespace=namespace, kind="Service", name=name)
    return Detection(
        (Finding(PORT_NOT_EXPOSED, "spec.ports targetPort not exposed: " + "; ".join(missing), ref),)
    )
