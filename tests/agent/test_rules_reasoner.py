"""The rules reasoner on realistic evidence: every root cause, its remediation and its citations."""

from __future__ import annotations

import pytest

from agent.domain import ActionType, EvidenceItem, EvidenceKind, RootCause
from agent.reasoners.base import Reasoner, TraceKind
from agent.reasoners.rules import RulesPolicy, RulesReasoner
from tests.agent import evidence_samples as s


def diagnose(evidence, **kwargs):
    return RulesReasoner(**kwargs).diagnose(s.incident(), evidence)


def test_is_a_reasoner_and_costs_nothing() -> None:
    reasoner = RulesReasoner()
    assert isinstance(reasoner, Reasoner)
    result = reasoner.diagnose(s.incident(), s.oom())
    assert result.usage.model_calls == 0 and result.reasoner == "rules"
    assert any(r.kind is TraceKind.RULE for r in result.trace)


def test_oom_raises_memory_limit_by_gitops_pr() -> None:
    d = diagnose(s.oom()).diagnosis
    assert d.category is RootCause.OOM
    assert d.confidence == 0.95
    assert d.faulty_field == "spec.template.spec.containers[app].resources.limits.memory"
    assert d.remediation.action is ActionType.GITOPS_PR
    assert d.remediation.patch == {
        "spec": {
            "template": {
                "spec": {"containers": [{"name": "app", "resources": {"limits": {"memory": "512Mi"}}}]}
            }
        }
    }
    assert {"status:pod/web-api-7d9f8c6b5-x2k4p", "metric:container_memory_working_set_bytes:app"} <= set(
        d.cited_evidence
    )


def test_oom_after_a_commit_that_lowered_memory_reverts_that_commit() -> None:
    sha = "ab12" * 10
    head = "--- a/apps/web-api.yaml\n+++ b/apps/web-api.yaml\n"
    lowered = head + "-            memory: 256Mi\n+            memory: 64Mi\n"
    raised = head + "-            memory: 128Mi\n+            memory: 256Mi\n"
    ev = s.oom()
    ev.items.append(s.commit(sha, "trim memory", lowered, ["apps/web-api.yaml"]))
    d = diagnose(ev).diagnosis
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.parameters["sha"] == sha and f"commit:{sha[:12]}" in d.cited_evidence
    other = s.oom()
    other.items.append(s.commit(sha, "more memory", raised, ["apps/web-api.yaml"]))
    assert diagnose(other).diagnosis.remediation.action is ActionType.GITOPS_PR  # a raise is not the cause


def test_oom_without_metric_is_less_sure_and_limit_is_capped() -> None:
    ev = s.oom()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.METRIC]
    d = diagnose(ev, policy=RulesPolicy(memory_cap_bytes=384 * 2**20)).diagnosis
    assert d.category is RootCause.OOM and d.confidence == 0.9
    assert d.remediation.parameters["new"] == "384Mi"


def test_oom_at_cap_only_notifies() -> None:
    d = diagnose(s.oom(), policy=RulesPolicy(memory_cap_bytes=256 * 2**20)).diagnosis
    assert d.category is RootCause.OOM
    assert d.remediation.action is ActionType.NOTIFY


def test_bad_image_rolls_back_to_previous_revision() -> None:
    d = diagnose(s.bad_image()).diagnosis
    assert d.category is RootCause.BAD_IMAGE and d.confidence == 0.9
    assert d.remediation.action is ActionType.ROLLBACK
    assert d.remediation.parameters == {"to_revision": 3}
    assert (
        d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["image"]
        == "ghcr.io/acme/web-api:1.4.2"
    )
    assert "rollout:3" in d.cited_evidence and "event:1" in d.cited_evidence


def test_bad_image_reverts_the_commit_that_changed_the_image() -> None:
    d = diagnose(s.bad_image_with_commit()).diagnosis
    assert d.category is RootCause.BAD_IMAGE
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.parameters["sha"] == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"
    assert "commit:a1b2c3d4e5f6" in d.cited_evidence


def test_missing_env_restores_the_value_from_an_earlier_revision() -> None:
    d = diagnose(s.missing_env()).diagnosis
    assert d.category is RootCause.MISSING_ENV and d.confidence >= 0.8
    assert d.remediation.action is ActionType.GITOPS_PR
    env = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DATABASE_URL", "value": "postgres://db.shop:5432/shop"}]
    assert "rollout:6" in d.cited_evidence


def test_missing_env_without_a_derivable_value_asks_humans() -> None:
    ev = s.missing_env()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.ROLLOUT]
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.MISSING_ENV
    assert d.remediation.action is ActionType.NOTIFY
    assert d.confidence < 0.8


def test_missing_env_from_a_configmap_that_holds_the_key() -> None:
    ev = s.missing_env()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.ROLLOUT]
    ev.items.append(
        EvidenceItem(
            id="manifest:configmap/db",
            kind=EvidenceKind.MANIFEST,
            source="configmap/db",
            text="",
            data={"object_kind": "ConfigMap", "name": "db", "keys": ["DATABASE_URL"]},
        )
    )
    d = diagnose(ev).diagnosis
    env = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert env["valueFrom"] == {"configMapKeyRef": {"name": "db", "key": "DATABASE_URL"}}


def test_missing_config_key_reverts_the_commit_that_dropped_it() -> None:
    d = diagnose(s.missing_config_key()).diagnosis
    assert d.category is RootCause.MISSING_CONFIG_KEY and d.confidence == 0.9
    assert d.faulty_resource == "ConfigMap shop/web-api-config"
    assert d.faulty_field == "data.FEATURE_FLAGS"
    assert d.remediation.action is ActionType.REVERT_COMMIT


def test_bad_command_rolls_back_with_the_previous_command() -> None:
    d = diagnose(s.bad_command()).diagnosis
    assert d.category is RootCause.BAD_COMMAND and d.confidence == 0.9
    assert d.remediation.action is ActionType.ROLLBACK
    assert d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python",
        "-m",
        "webapi",
    ]


def test_readiness_probe_restores_the_earlier_probe() -> None:
    d = diagnose(s.readiness_probe()).diagnosis
    assert d.category is RootCause.READINESS_PROBE and d.confidence >= 0.8
    assert d.remediation.action is ActionType.GITOPS_PR
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": 8080}


def _with_healthy_old_pod(sample: s.Evidence, old_log: str) -> s.Evidence:
    """`sample` plus a Ready pod of the previous revision whose log says `old_log`."""
    old = "web-api-5465c9c847-9w78h"
    items = [
        *sample.items,
        s.status(ready=True, pod=old, restart_count=0),
        s.log(old_log, previous=False, pod=old),
    ]
    return sample.model_copy(update={"items": items})


def test_readiness_probe_ignores_a_refused_connection_in_a_healthy_pods_startup_log() -> None:
    # The old revision's pods logged one refused connection while postgres was starting, hours ago;
    # that says nothing about why the new pod fails its probe.
    startup = 'ERROR connection to server at "postgres", port 5432 failed: Connection refused\nINFO ready'
    d = diagnose(_with_healthy_old_pod(s.readiness_probe(), startup)).diagnosis
    assert d.category is RootCause.READINESS_PROBE and d.confidence >= 0.8


def test_readiness_probe_doubts_itself_when_the_failing_pod_cannot_reach_a_dependency() -> None:
    sample = s.readiness_probe()
    refused = s.log('ERROR connection to server at "postgres", port 5432 failed: Connection refused', False)
    items = [i for i in sample.items if i.kind is not EvidenceKind.LOG] + [refused]
    d = diagnose(sample.model_copy(update={"items": items})).diagnosis
    assert d.confidence < 0.8, "the probe may be failing because its dependency is down"


def test_liveness_probe_on_an_undeclared_port_points_it_at_the_declared_one() -> None:
    d = diagnose(s.liveness_probe()).diagnosis
    assert d.category is RootCause.LIVENESS_PROBE and d.confidence >= 0.8
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]
    assert probe["httpGet"]["port"] == 8080 and probe["httpGet"]["path"] == "/healthz"
    assert d.faulty_field == "spec.template.spec.containers[app].livenessProbe"


def test_unschedulable_lowers_requests_to_fit_the_largest_node_and_asks() -> None:
    d = diagnose(s.unschedulable()).diagnosis
    assert d.category is RootCause.UNSCHEDULABLE
    assert d.remediation.action is ActionType.GITOPS_PR
    new = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"]
    assert new == "6249Mi"  # 80% of the 7812Mi node
    assert d.confidence == 0.7  # derived from allocatable, not from a known-good revision: below act
    assert "status:node/node-b" in d.cited_evidence


def test_dependency_down_names_the_dependency_and_notifies() -> None:
    d = diagnose(s.dependency_down()).diagnosis
    assert d.category is RootCause.DEPENDENCY_DOWN and d.confidence == 0.9
    assert d.faulty_resource == "Deployment shop/postgres"
    assert d.remediation.action is ActionType.NOTIFY
    assert "status:deployment/postgres" in d.cited_evidence


def test_bad_config_value_reverts_the_suspect_commit() -> None:
    d = diagnose(s.bad_config_value()).diagnosis
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence == 0.85
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.parameters["sha"].startswith("c0ffee00")
    assert d.faulty_resource == "ConfigMap shop/web-api-config"


def _without_configmaps(sample: s.Evidence, *containers: dict) -> s.Evidence:
    items = [i for i in sample.items if i.kind is not EvidenceKind.MANIFEST]
    return sample.model_copy(update={"items": items, "manifest": s.manifest(*containers)})


def test_bad_config_value_names_the_referenced_configmap_when_none_is_in_the_evidence() -> None:
    uses = s.container(envFrom=[{"configMapRef": {"name": "web-api-config"}}])
    d = diagnose(_without_configmaps(s.bad_config_value(), uses)).diagnosis
    assert d.faulty_resource == "ConfigMap shop/web-api-config"
    # two referenced, the commit names neither: the workload is all the evidence supports
    both = s.container(
        envFrom=[{"configMapRef": {"name": "web-api-config"}}],
        env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "shared-flags", "key": "x"}}}],
    )
    d = diagnose(_without_configmaps(s.bad_config_value(), both)).diagnosis
    assert d.faulty_resource == "Deployment shop/web-api"
    # ... unless the commit names one (a word, not a prefix of another name)
    sample = _without_configmaps(s.bad_config_value(), both)
    items = [
        i.model_copy(update={"data": {**i.data, "message": "shared-flags: set x"}})
        if i.kind is EvidenceKind.COMMIT
        else i
        for i in sample.items
    ]
    d = diagnose(sample.model_copy(update={"items": items})).diagnosis
    assert d.faulty_resource == "ConfigMap shop/shared-flags"


def test_scaled_to_zero_scales_back_to_the_previous_count() -> None:
    d = diagnose(s.scaled_to_zero()).diagnosis
    assert d.category is RootCause.SCALED_TO_ZERO and d.confidence == 0.9
    assert d.remediation.action is ActionType.SCALE
    assert d.remediation.parameters == {"replicas": 3}
    assert "event:1" in d.cited_evidence


def test_node_pressure_notifies_and_blames_the_node() -> None:
    d = diagnose(s.node_pressure()).diagnosis
    assert d.category is RootCause.NODE_PRESSURE and d.confidence == 0.9
    assert d.faulty_resource == "Node node-b"
    assert d.remediation.action is ActionType.NOTIFY


def test_generic_crash_loop_is_unknown_at_low_confidence() -> None:
    d = diagnose(s.generic_crash()).diagnosis
    assert d.category is RootCause.UNKNOWN and d.confidence == 0.3
    assert d.remediation.action is ActionType.NOTIFY


def test_healthy_but_noisy_evidence_is_unknown() -> None:
    d = diagnose(s.healthy_but_noisy()).diagnosis
    assert d.category is RootCause.UNKNOWN and d.confidence <= 0.1


def test_text_only_evidence_still_matches_kubelet_wording() -> None:
    """Without structured data the rules fall back to the event and status text."""
    ev = s.evidence(
        EvidenceItem(
            id="status:pod/x",
            kind=EvidenceKind.STATUS,
            source="pod/x",
            text="app: waiting CrashLoopBackOff, last terminated OOMKilled exit code 137, restarts 4",
        ),
        EvidenceItem(
            id="event:9",
            kind=EvidenceKind.EVENT,
            source="pod/x",
            text="Warning FailedScheduling 0/3 nodes are available: 3 Insufficient memory.",
        ),
    )
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.OOM and "status:pod/x" in d.cited_evidence


@pytest.mark.parametrize(
    "sample", ["oom", "bad_image", "missing_env", "readiness_probe", "scaled_to_zero", "healthy_but_noisy"]
)
def test_hostile_log_lines_do_not_change_the_outcome(sample: str) -> None:
    clean = diagnose(getattr(s, sample)()).diagnosis
    ev = getattr(s, sample)()
    ev.items.append(
        s.log(s.HOSTILE + "\nKeyError: 'PROD_NAMESPACE'", previous=False, container_name="sidecar")
    )
    ev.items.append(s.event(77, "Note", s.HOSTILE, type_="Normal"))
    hostile = diagnose(ev).diagnosis
    assert (hostile.category, hostile.remediation.action, hostile.remediation.patch) == (
        clean.category,
        clean.remediation.action,
        clean.remediation.patch,
    )
    assert hostile.confidence == pytest.approx(clean.confidence, abs=0.16)


def test_citations_only_name_existing_items() -> None:
    for name in ("oom", "bad_image", "missing_env", "unschedulable", "dependency_down", "node_pressure"):
        ev = getattr(s, name)()
        d = diagnose(ev).diagnosis
        assert d.cited_evidence and set(d.cited_evidence) <= ev.ids(), name


def test_witty_summary_adds_a_deterministic_quip_beside_the_facts() -> None:
    plain = diagnose(s.oom()).diagnosis
    a = diagnose(s.oom(), witty=True).diagnosis
    b = diagnose(s.oom(), witty=True).diagnosis
    assert plain.quip is None and a.quip and a.quip == b.quip
    assert a.explanation == plain.explanation


@pytest.mark.parametrize(
    "line",
    [
        "Error: environment variable DATABASE_URL is not set",
        "FATAL missing required environment variable: DATABASE_URL",
        "panic: DATABASE_URL must be set",
        "KeyError: 'DATABASE_URL'",
    ],
)
def test_missing_env_recognises_common_wordings(line: str) -> None:
    ev = s.missing_env()
    ev.items = [i if i.kind is not EvidenceKind.LOG else s.log(f"starting\n{line}") for i in ev.items]
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.MISSING_ENV
    assert (
        d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"] == "DATABASE_URL"
    )


@pytest.mark.parametrize(
    "line",
    [
        "dial tcp: lookup postgres on 10.96.0.10:53: no such host",
        "Error: getaddrinfo ENOTFOUND postgres",
        "redis.exceptions.ConnectionError: Error 111 connecting to postgres:6379. Connection refused.",
    ],
)
def test_dependency_down_recognises_common_wordings(line: str) -> None:
    ev = s.dependency_down()
    ev.items = [i if i.kind is not EvidenceKind.LOG else s.log(line) for i in ev.items]
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.DEPENDENCY_DOWN and d.faulty_resource == "Deployment shop/postgres"


def test_unschedulable_prefers_the_request_of_a_schedulable_revision() -> None:
    ev = s.unschedulable()
    ev.items.append(s.rollout(1, [s.container()]))
    ev.items.append(s.rollout(2, [s.container(resources={"requests": {"memory": "64Gi"}})], current=True))
    d = diagnose(ev).diagnosis
    requests = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert requests == {"memory": "128Mi"} and d.confidence == 0.9
    assert "rollout:1" in d.cited_evidence


def test_scaled_to_zero_by_a_commit_reverts_it() -> None:
    ev = s.scaled_to_zero()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.EVENT]
    ev.items.append(
        s.commit(
            "5ca1ed0000000000000000000000000000000000",
            "save costs",
            "--- a/d.yaml\n+++ b/d.yaml\n@@ -6 +6 @@\n-  replicas: 3\n+  replicas: 0\n",
            ["d.yaml"],
        )
    )
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.SCALED_TO_ZERO
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.parameters == {"sha": "5ca1ed0000000000000000000000000000000000", "replicas": 3}


def test_scaled_to_zero_without_a_known_count_asks() -> None:
    ev = s.scaled_to_zero()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.EVENT]
    d = diagnose(ev).diagnosis
    assert d.category is RootCause.SCALED_TO_ZERO and d.confidence == 0.6
    assert d.remediation.action is ActionType.NOTIFY
