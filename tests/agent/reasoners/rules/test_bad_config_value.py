"""bad_config_value: the commit that changed a value reverted, blaming the ConfigMap it changed."""

from __future__ import annotations

from agent.domain import ActionType, EvidenceKind, RootCause
from tests.agent import evidence_samples as s


def test_bad_config_value_reverts_the_suspect_commit(diagnose) -> None:
    d = diagnose(s.bad_config_value())
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence == 0.85
    assert d.remediation.action is ActionType.REVERT_COMMIT
    assert d.remediation.commit.startswith("c0ffee00")
    assert d.faulty_resource == "ConfigMap shop/web-api-config"


def _without_configmaps(sample: s.Evidence, *containers: dict) -> s.Evidence:
    items = [i for i in sample.items if i.kind is not EvidenceKind.MANIFEST]
    return sample.model_copy(update={"items": items, "manifest": s.manifest(*containers)})


def test_bad_config_value_names_the_referenced_configmap_when_none_is_in_the_evidence(diagnose) -> None:
    uses = s.container(envFrom=[{"configMapRef": {"name": "web-api-config"}}])
    d = diagnose(_without_configmaps(s.bad_config_value(), uses))
    assert d.faulty_resource == "ConfigMap shop/web-api-config"
    # two referenced, the commit names neither: the workload is all the evidence supports
    both = s.container(
        envFrom=[{"configMapRef": {"name": "web-api-config"}}],
        env=[{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "shared-flags", "key": "x"}}}],
    )
    d = diagnose(_without_configmaps(s.bad_config_value(), both))
    assert d.faulty_resource == "Deployment shop/web-api"
    # ... unless the commit names one (a word, not a prefix of another name)
    sample = _without_configmaps(s.bad_config_value(), both)
    items = [
        i.model_copy(update={"data": {**i.data, "message": "shared-flags: set x"}})
        if i.kind is EvidenceKind.COMMIT
        else i
        for i in sample.items
    ]
    d = diagnose(sample.model_copy(update={"items": items}))
    assert d.faulty_resource == "ConfigMap shop/shared-flags"


def test_a_bad_value_named_in_the_log_and_changed_by_a_commit_is_bad_config_value(diagnose) -> None:
    path = "apps/web-api/configmap.yaml"
    diff = f'--- a/{path}\n+++ b/{path}\n-  POOL_SIZE: "10"\n+  POOL_SIZE: "0"\n'
    line = "ERROR app.api: request failed: ValueError: POOL_SIZE must be between 1 and 100, got 0 [x96]"
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line, previous=False),
            s.commit("3c938ba5b99e0000", "web-api-config: set POOL_SIZE to 0", diff, [path]),
        )
    )
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence >= 0.75
    assert d.remediation is not None and d.remediation.action.value == "revert_commit"


def test_a_value_outside_the_allowed_set_after_a_rollout_is_bad_config_value(diagnose) -> None:
    # What a watcher's errors-after-rollout incident brings: pods ready, a JSON log rejecting a word
    # the program does not support, a commit that set that variable in the Deployment.
    path = "apps/web-api/deployment.yaml"
    diff = (
        f"--- a/{path}\n+++ b/{path}\n"
        "         - name: RENDER_MODE\n-          value: fast\n+          value: turbo\n"
    )
    line = (
        '{"level":"error","msg":"configuration problem: ValueError: unsupported value \'turbo\' for '
        'RENDER_MODE (expected one of fast, safe)"}\n'
        '{"level":"error","msg":"request failed","status":500}'
    )
    live = s.manifest(s.container(env=[{"name": "RENDER_MODE", "value": "turbo"}]))
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line, previous=False),
            s.commit("9d1e0c2a77f10000", "web-api: render mode turbo", diff, [path]),
            live=live,
        )
    )
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence >= 0.75
    assert d.faulty_field == "spec.template.spec.containers[app].env[RENDER_MODE].value"
    assert d.remediation is not None and d.remediation.action is ActionType.REVERT_COMMIT


def test_a_configmap_changed_beside_a_checksum_bump_is_found_from_the_diff(diagnose) -> None:
    # The history of the Deployment's manifest lists only that file; the commit's diff shows the
    # ConfigMap it changed too, and the message names neither.
    cm, deploy = "apps/web-api/configmap.yaml", "apps/web-api/deployment.yaml"
    diff = (
        f'--- a/{cm}\n+++ b/{cm}\n@@ -9,2 +9,2 @@\n data:\n-  POOL_SIZE: "10"\n+  POOL_SIZE: "0"\n'
        f"--- a/{deploy}\n+++ b/{deploy}\n@@ -20 +20 @@\n"
        "-        checksum/config: aaa\n+        checksum/config: bbb\n"
    )
    env = [
        {"name": n, "valueFrom": {"configMapKeyRef": {"name": "web-api-config", "key": n}}}
        for n in ("DATABASE_URL", "POOL_SIZE")
    ]
    line = "ERROR    app.api: request failed: ValueError: POOL_SIZE must be between 1 and 100, got 0"
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line, previous=False),
            s.commit("762e3e3f2063f599", "web-api: tune deployment settings", diff, [deploy]),
            live=s.manifest(s.container(env=env)),
        )
    )
    assert d.category is RootCause.BAD_CONFIG_VALUE
    assert (d.faulty_resource, d.faulty_field) == ("ConfigMap shop/web-api-config", "data.POOL_SIZE")


def test_the_commit_that_changed_the_rejected_key_is_blamed_not_a_later_one(diagnose) -> None:
    path = "apps/web-api/configmap.yaml"
    bad = f'--- a/{path}\n+++ b/{path}\n-  POOL_SIZE: "10"\n+  POOL_SIZE: "0"\n'
    later = f"--- a/{path}\n+++ b/{path}\n-  LOG_LEVEL: info\n+  LOG_LEVEL: debug\n"
    line = "ERROR    app.api: request failed: ValueError: POOL_SIZE must be between 1 and 100, got 0"
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line, previous=False),
            s.commit("aaaa1111bbbb2222", "web-api: debug logging", later, [path]),  # newest first
            s.commit("cccc3333dddd4444", "Update web-api manifest", bad, [path]),
            live=s.manifest(s.container(envFrom=[{"configMapRef": {"name": "web-api-config"}}])),
        )
    )
    assert d.category is RootCause.BAD_CONFIG_VALUE and d.confidence >= 0.8
    assert d.remediation is not None and d.remediation.commit == "cccc3333dddd4444"
    assert d.faulty_field == "data.POOL_SIZE"


def test_a_commit_that_first_wrote_the_key_is_not_the_one_that_changed_it(diagnose) -> None:
    # The repository's first commit adds every line, the rejected key's too; it changed no value.
    path = "apps/web-api/deployment.yaml"
    first = f"--- /dev/null\n+++ b/{path}\n+        - name: RENDER_MODE\n+          value: fast\n"
    bad = f"--- a/{path}\n+++ b/{path}\n         - name: RENDER_MODE\n-          value: fast\n"
    bad += "+          value: turbo\n"
    line = (
        '{"level":"error","msg":"unsupported value \'turbo\' for RENDER_MODE (expected one of fast, safe)"}'
    )
    d = diagnose(
        s.evidence(
            s.status(ready=True, restart_count=0),
            s.log(line + '\n{"level":"error","msg":"request failed","status":500}', previous=False),
            s.commit("eeee5555ffff6666", "web-api: render mode", bad, [path]),
            s.commit("0000aaaa0000bbbb", "Sample applications", first, [path]),
            live=s.manifest(s.container(env=[{"name": "RENDER_MODE", "value": "turbo"}])),
        )
    )
    assert d.remediation is not None and d.remediation.commit == "eeee5555ffff6666"
