"""liveness_probe: a probe on an undeclared port pointed at the declared one."""

from __future__ import annotations

from agent.domain import Evidence, RootCause, WorkloadRef
from tests.agent import evidence_samples as s


def test_liveness_probe_on_an_undeclared_port_points_it_at_the_declared_one(diagnose) -> None:
    d = diagnose(s.liveness_probe())
    assert d.category is RootCause.LIVENESS_PROBE and d.confidence >= 0.8
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert probe == {"httpGet": {"port": 8080}}, "only the port changes; the path merges unchanged"
    assert d.faulty_field == "spec.template.spec.containers[app].livenessProbe.httpGet.port"


def test_a_bare_pods_probe_is_read_from_its_own_spec_and_named_there(diagnose) -> None:
    ev = s.liveness_probe()
    deployment = ev.manifest or {}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": s.POD, "namespace": "shop"},
        "spec": deployment["spec"]["template"]["spec"],
    }
    ev = Evidence(target=WorkloadRef(namespace="shop", kind="Pod", name=s.POD), items=ev.items, manifest=pod)
    d = diagnose(ev)
    assert d.category is RootCause.LIVENESS_PROBE
    assert d.faulty_resource == f"Pod shop/{s.POD}"
    assert d.faulty_field == "spec.containers[app].livenessProbe.httpGet.port"
