"""missing_secret: a Secret (or a key of one) the pods reference does not exist; never missing_config_key."""

from __future__ import annotations

from agent.domain import ActionType, EvidenceItem, RootCause
from tests.agent import evidence_samples as s

SECRET_REF = {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}
PLAIN = {"name": "DB_PASSWORD", "value": "from-vault-sidecar"}


def _failing(message: str, *extra: EvidenceItem, env: list | None = None, **kw) -> s.Evidence:
    live = s.manifest(s.container(env=env if env is not None else [SECRET_REF]))
    return s.evidence(
        s.status(waiting_reason="CreateContainerConfigError", waiting_message=message, phase="Pending"),
        s.event(1, "Failed", f"Error: {message}"),
        *extra,
        live=live,
        **kw,
    )


def test_a_secret_that_does_not_exist_is_missing_secret(diagnose) -> None:
    d = diagnose(_failing('secret "db-creds" not found'))
    assert d.category is RootCause.MISSING_SECRET and d.confidence >= 0.8
    assert d.category is not RootCause.MISSING_CONFIG_KEY
    assert d.remediation.action is ActionType.NOTIFY, "Paramedic never writes Secret values"
    assert "db-creds" in d.remediation.rationale
    assert f"status:pod/{s.POD}" in d.cited_evidence


def test_a_missing_key_of_a_secret_names_the_key(diagnose) -> None:
    d = diagnose(_failing("couldn't find key password in Secret shop/db-creds"))
    assert d.category is RootCause.MISSING_SECRET
    assert d.faulty_resource == "Secret shop/db-creds"
    assert d.faulty_field == "data.password"


def test_a_reference_changed_since_the_working_revision_is_pointed_back(diagnose) -> None:
    d = diagnose(s.missing_secret())
    assert d.category is RootCause.MISSING_SECRET and d.confidence >= 0.8
    assert d.faulty_field == "spec.template.spec.containers[app].env[DB_PASSWORD]"
    assert d.remediation.action is ActionType.GITOPS_PR
    entry = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert entry["name"] == "DB_PASSWORD" and entry["value"] == "from-vault-sidecar"
    assert entry.get("valueFrom") is None, "the secretKeyRef goes"


def test_a_volume_of_a_missing_secret_is_missing_secret(diagnose) -> None:
    message = 'MountVolume.SetUp failed for volume "tls" : secret "web-tls" not found'
    live = s.manifest(s.container(env=[]))
    live["spec"]["template"]["spec"]["volumes"] = [{"name": "tls", "secret": {"secretName": "web-tls"}}]
    evidence = s.evidence(
        s.status(waiting_reason="ContainerCreating", phase="Pending"),
        s.event(1, "FailedMount", message),
        live=live,
    )
    d = diagnose(evidence)
    assert d.category is RootCause.MISSING_SECRET
    assert "web-tls" in d.explanation


def test_an_old_secret_event_on_pods_that_run_is_not_a_confident_missing_secret(diagnose) -> None:
    evidence = s.evidence(
        s.status(ready=True, state="running"),
        s.deployment_status("web-api", replicas=2, ready=2),
        s.event(1, "Failed", 'Error: secret "db-creds" not found', count=1),
        live=s.manifest(s.container(env=[SECRET_REF])),
    )
    d = diagnose(evidence)
    assert d.category is not RootCause.MISSING_SECRET and d.confidence < 0.5


def test_a_missing_configmap_key_stays_missing_config_key(diagnose) -> None:
    d = diagnose(s.missing_config_key())
    assert d.category is RootCause.MISSING_CONFIG_KEY


def test_a_reference_a_commit_added_to_a_secret_nobody_created_names_the_reference(diagnose) -> None:
    # The convention (evals/scenarios/README.md): what changed is at fault. The Secret never
    # existed; the commit added the reference, so the env entry is named, with the Secret in the text.
    added = {
        "name": "BROKER_PASSWORD",
        "valueFrom": {"secretKeyRef": {"name": "broker-auth", "key": "password"}},
    }
    before, after = s.container(env=[]), s.container(env=[added])
    message = 'secret "broker-auth" not found'
    sha = "ab12cd34" * 5
    diff = (
        "--- a/apps/web-api/deployment.yaml\n+++ b/apps/web-api/deployment.yaml\n@@ -20,2 +20,7 @@\n"
        "           image: ghcr.io/acme/web-api:1.4.2\n+          env:\n"
        "+            - name: BROKER_PASSWORD\n"
        "+              valueFrom:\n+                secretKeyRef:\n+                  name: broker-auth\n"
        "+                  key: password\n"
    )
    d = diagnose(
        s.evidence(
            s.status(waiting_reason="CreateContainerConfigError", waiting_message=message, phase="Pending"),
            s.event(1, "Failed", f"Error: {message}"),
            s.rollout(4, [before], pods=(2, 2)),
            s.rollout(5, [after], current=True, pods=(1, 0)),
            s.commit(
                sha, "web-api: read the broker password from a Secret", diff, ["apps/web-api/deployment.yaml"]
            ),
            live=s.manifest(after),
        )
    )
    assert d.category is RootCause.MISSING_SECRET
    assert (d.faulty_resource, d.faulty_field) == (
        "Deployment shop/web-api",
        "spec.template.spec.containers[app].env[BROKER_PASSWORD]",
    )
    assert "broker-auth" in d.explanation
    assert d.remediation.action in (ActionType.REVERT_COMMIT, ActionType.GITOPS_PR)
