"""A Service whose targetPort no selected container exposes."""

from __future__ import annotations

from agent.domain import WorkloadRef
from server.watcher.detect_ports import PORT_NOT_EXPOSED, detect_ports
from tests.server.watcher import objects as o

APP = {"app": "web-api"}
HTTP = [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]


def test_a_numeric_target_port_no_container_declares() -> None:
    svc = o.service(selector=APP, target_port=9090)
    [finding] = detect_ports(svc, [o.labelled(o.pod(), APP, ports=HTTP)]).findings
    assert finding.reason == PORT_NOT_EXPOSED
    assert finding.target == WorkloadRef(namespace="shop", kind="Service", name="web-api")
    assert "9090" in finding.message and "8080" in finding.message


def test_a_named_target_port_no_container_carries() -> None:
    svc = o.service(selector=APP, target_port="metrics")
    [finding] = detect_ports(svc, [o.labelled(o.pod(), APP, ports=HTTP)]).findings
    assert "'metrics'" in finding.message


def test_matching_ports_by_number_or_name_are_quiet() -> None:
    pods = [o.labelled(o.pod(), APP, ports=HTTP)]
    assert not detect_ports(o.service(selector=APP, target_port=8080), pods)
    assert not detect_ports(o.service(selector=APP, target_port="http"), pods)


def test_undeclared_container_ports_give_no_verdict_on_numbers() -> None:
    # containerPort is informational: a container that declares none may still listen on 9090
    assert not detect_ports(o.service(selector=APP, target_port=9090), [o.labelled(o.pod(), APP)])


def test_no_selected_pod_or_no_selector_is_not_this_detector_s_business() -> None:
    assert not detect_ports(o.service(selector=APP, target_port=9090), [])
    assert not detect_ports(
        o.service(selector=None, target_port=9090), [o.labelled(o.pod(), APP, ports=HTTP)]
    )
