"""liveness_probe: a probe on an undeclared port pointed at the declared one."""

from __future__ import annotations

from agent.domain import RootCause
from tests.agent import evidence_samples as s


def test_liveness_probe_on_an_undeclared_port_points_it_at_the_declared_one(diagnose) -> None:
    d = diagnose(s.liveness_probe())
    assert d.category is RootCause.LIVENESS_PROBE and d.confidence >= 0.8
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert probe == {"httpGet": {"port": 8080}}, "only the port changes; the path merges unchanged"
    assert d.faulty_field == "spec.template.spec.containers[app].livenessProbe.httpGet.port"
