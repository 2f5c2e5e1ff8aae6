"""An Ingress routing to a Service port, or a Service, that does not exist."""

from __future__ import annotations

from typing import Any

from agent.domain import WorkloadRef
from server.watcher.detect_ingress import INGRESS_PORT_NOT_EXPOSED, INGRESS_SERVICE_MISSING, detect_ingress
from tests.server.watcher import objects as o


def _ingress(*backends: dict[str, Any], default: dict[str, Any] | None = None) -> o.Obj:
    paths = [{"path": "/", "pathType": "Prefix", "backend": {"service": b}} for b in backends]
    spec: dict[str, Any] = {"rules": [{"host": "shop.example", "http": {"paths": paths}}]}
    if default:
        spec["defaultBackend"] = {"service": default}
    return {"metadata": {"name": "shop", "namespace": "shop"}, "spec": spec}


def _services() -> dict[str, o.Obj]:
    web = o.service("web-api", selector={"app": "web-api"})
    web["spec"]["ports"] = [{"name": "http", "port": 80, "targetPort": 8080}]
    return {"web-api": web}


def test_a_backend_on_a_declared_port_by_number_or_name_is_quiet() -> None:
    by_number = {"name": "web-api", "port": {"number": 80}}
    by_name = {"name": "web-api", "port": {"name": "http"}}
    assert not detect_ingress(_ingress(by_number, default=by_name), _services())


def test_a_backend_on_a_port_the_service_does_not_declare_is_found_on_the_ingress() -> None:
    [finding] = detect_ingress(_ingress({"name": "web-api", "port": {"number": 8080}}), _services()).findings
    assert finding.reason == INGRESS_PORT_NOT_EXPOSED
    assert finding.target == WorkloadRef(namespace="shop", kind="Ingress", name="shop")
    assert "web-api:8080" in finding.message and "http" in finding.message


def test_a_backend_naming_no_service_is_found_too() -> None:
    ingress = _ingress(
        {"name": "web-apii", "port": {"number": 80}}, default={"name": "web-api", "port": {"name": "web"}}
    )
    reasons = {f.reason for f in detect_ingress(ingress, _services()).findings}
    assert reasons == {INGRESS_PORT_NOT_EXPOSED, INGRESS_SERVICE_MISSING}


def test_external_name_services_and_malformed_ingresses_are_quiet() -> None:
    external = {"external": {"metadata": {"name": "external"}, "spec": {"type": "ExternalName"}}}
    assert not detect_ingress(_ingress({"name": "external", "port": {"number": 443}}), external)
    assert not detect_ingress({"spec": "garbage"}, _services())
    assert not detect_ingress(
        {"metadata": {"name": "x", "namespace": "shop"}, "spec": {"rules": ["x", None]}}, {}
    )
