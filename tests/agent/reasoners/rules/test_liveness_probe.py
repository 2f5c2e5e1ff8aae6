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


def _probe_added(message: str) -> Evidence:
    """Revision 2 added a liveness probe revision 1 did not have; the kubelet says why it fails."""
    probed = s.container(livenessProbe={"httpGet": {"path": "/livez", "port": 8080}})
    return s.evidence(
        s.status(
            restart_count=5, waiting_reason="CrashLoopBackOff", last_terminated_reason="Error", exit_code=137
        ),
        s.event(1, "Unhealthy", f"Liveness probe failed: {message}", count=15),
        s.event(2, "Killing", "Container app failed liveness probe, will be restarted", type_="Normal"),
        s.rollout(1, [s.container()], pods=(0, 0)),
        s.rollout(2, [probed], current=True, pods=(2, 0)),
        live=s.manifest(probed),
    )


def test_a_404_names_the_probes_path_when_history_cannot(diagnose) -> None:
    d = diagnose(_probe_added("HTTP probe failed with statuscode: 404"))
    assert d.category is RootCause.LIVENESS_PROBE
    assert d.faulty_field == "spec.template.spec.containers[app].livenessProbe.httpGet.path"


def test_a_refused_connection_names_the_probes_port(diagnose) -> None:
    d = diagnose(
        _probe_added(
            'Get "http://10.244.1.7:8080/livez": dial tcp 10.244.1.7:8080: connect: connection refused'
        )
    )
    assert d.category is RootCause.LIVENESS_PROBE
    assert d.faulty_field == "spec.template.spec.containers[app].livenessProbe.httpGet.port"


def test_a_failing_health_check_names_no_leaf_it_cannot_see(diagnose) -> None:
    d = diagnose(_probe_added("HTTP probe failed with statuscode: 500"))
    assert d.category is RootCause.LIVENESS_PROBE
    assert not (d.faulty_field or "").endswith(("httpGet.path", "httpGet.port"))
