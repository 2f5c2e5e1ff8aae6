"""readiness_probe: the earlier probe restored; a down dependency casts doubt, a healthy pod's
old startup log does not."""

from __future__ import annotations

from agent.domain import ActionType, EvidenceKind, RootCause
from tests.agent import evidence_samples as s


def test_readiness_probe_restores_the_earlier_probe(diagnose) -> None:
    d = diagnose(s.readiness_probe())
    assert d.category is RootCause.READINESS_PROBE and d.confidence >= 0.8
    assert d.remediation.action is ActionType.GITOPS_PR
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe == {"httpGet": {"path": "/healthz"}}, "only the leaf that differs is restored"
    assert d.faulty_field == "spec.template.spec.containers[app].readinessProbe.httpGet.path"


def _with_healthy_old_pod(sample: s.Evidence, old_log: str) -> s.Evidence:
    """`sample` plus a Ready pod of the previous revision whose log says `old_log`."""
    old = "web-api-5465c9c847-9w78h"
    items = [
        *sample.items,
        s.status(ready=True, pod=old, restart_count=0),
        s.log(old_log, previous=False, pod=old),
    ]
    return sample.model_copy(update={"items": items})


def test_readiness_probe_ignores_a_refused_connection_in_a_healthy_pods_startup_log(diagnose) -> None:
    # The old revision's pods logged one refused connection while postgres was starting, hours ago;
    # that says nothing about why the new pod fails its probe.
    startup = 'ERROR connection to server at "postgres", port 5432 failed: Connection refused\nINFO ready'
    d = diagnose(_with_healthy_old_pod(s.readiness_probe(), startup))
    assert d.category is RootCause.READINESS_PROBE and d.confidence >= 0.8


def test_readiness_probe_doubts_itself_when_the_failing_pod_cannot_reach_a_dependency(diagnose) -> None:
    sample = s.readiness_probe()
    refused = s.log('ERROR connection to server at "postgres", port 5432 failed: Connection refused', False)
    items = [i for i in sample.items if i.kind is not EvidenceKind.LOG] + [refused]
    d = diagnose(sample.model_copy(update={"items": items}))
    assert d.confidence < 0.8, "the probe may be failing because its dependency is down"
