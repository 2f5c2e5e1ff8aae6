"""An Ingress routing to a Service port that does not exist. Pure, like `detect`.

An Ingress backend names a Service and one of its ports, by number (`spec.ports[].port`) or by
name (`spec.ports[].name`); a port the Service does not declare gets no endpoints behind it and the
controller answers 503. A backend naming a Service that does not exist is a finding too. The hop
after it (the Service's `targetPort` to the containers) is `detect_ports`' business. A Service of
type ExternalName has no ports to check.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect import NOTHING, Detection, Finding

INGRESS_PORT_NOT_EXPOSED = "IngressPortNotExposed"
INGRESS_SERVICE_MISSING = "IngressServiceMissing"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def backends(ingress: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every `backend.service` of the Ingress: the default backend and each rule's paths."""
    spec = _map(ingress.get("spec"))
    default = _map(_map(spec.get("defaultBackend")).get("service"))
    if default:
        yield default
    for rule in spec.get("rules") or []:
        for path in _map(_map(rule).get("http")).get("paths") or []:
            service = _map(_map(_map(path).get("backend")).get("service"))
            if service:
                yield service


def _declares(service: Mapping[str, Any], port: Mapping[str, Any]) -> bool:
    ports = [_map(p) for p in _map(service.get("spec")).get("ports") or []]
    if "number" in port:
        return any(p.get("port") == port.get("number") for p in ports)
    return any(p.get("name") == port.get("name") for p in ports)


def detect_ingress(ingress: Mapping[str, Any], services: Mapping[str, Mapping[str, Any]]) -> Detection:
    """A finding on the Ingress when a backend's Service, or its port, does not exist (`services`: the
    namespace's Services by name)."""
    metadata = _map(ingress.get("metadata"))
    namespace, name = metadata.get("namespace"), metadata.get("name")
    if not isinstance(namespace, str) or not isinstance(name, str) or not namespace or not name:
        return NOTHING
    missing: list[str] = []
    unexposed: list[str] = []
    for backend in backends(ingress):
        target, port = str(backend.get("name") or ""), _map(backend.get("port"))
        label = f"{target}:{port.get('number', port.get('name', '?'))}"
        service = services.get(target)
        if service is None:
            missing.append(label)
        elif (
            _map(service.get("spec")).get("type") != "ExternalName" and port and not _declares(service, port)
        ):
            declared = [
                _map(p).get("name") or _map(p).get("port")
                for p in _map(service.get("spec")).get("ports") or []
            ]
            unexposed.append(f"{label} (Service {target} declares {declared})")
    ref = WorkloadRef(namespace=namespace, kind="Ingress", name=name)
    findings = []
    if unexposed:
        message = "a backend's Service port does not exist: " + "; ".join(dict.fromkeys(unexposed))
        findings.append(Finding(INGRESS_PORT_NOT_EXPOSED, message, ref))
    if missing:
        message = "a backend's Service does not exist: " + ", ".join(dict.fromkeys(missing))
        findings.append(Finding(INGRESS_SERVICE_MISSING, message, ref))
    return Detection(tuple(findings))
