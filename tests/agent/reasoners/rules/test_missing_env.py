"""missing_env: the unset variable restored from a revision or a ConfigMap, else humans asked."""

from __future__ import annotations

import pytest

from agent.domain import ActionType, EvidenceKind, RootCause
from tests.agent import evidence_samples as s
from tools.boundary import redact_text


def test_missing_env_restores_the_value_from_an_earlier_revision(diagnose) -> None:
    d = diagnose(s.missing_env())
    assert d.category is RootCause.MISSING_ENV and d.confidence >= 0.8
    assert d.remediation.action is ActionType.GITOPS_PR
    env = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"]
    assert env == [{"name": "DATABASE_URL", "value": "postgres://db.shop:5432/shop"}]
    assert "rollout:6" in d.cited_evidence


def test_missing_env_without_a_derivable_value_asks_humans(diagnose) -> None:
    ev = s.missing_env()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.ROLLOUT]
    d = diagnose(ev)
    assert d.category is RootCause.MISSING_ENV
    assert d.remediation.action is ActionType.NOTIFY
    assert d.confidence < 0.8


def test_missing_env_from_a_configmap_that_holds_the_key(diagnose) -> None:
    ev = s.missing_env()
    ev.items = [i for i in ev.items if i.kind is not EvidenceKind.ROLLOUT]
    ev.items.append(s.configmap("db", ["DATABASE_URL"]))
    d = diagnose(ev)
    env = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"][0]
    assert env["valueFrom"] == {"configMapKeyRef": {"name": "db", "key": "DATABASE_URL"}}


@pytest.mark.parametrize(
    "line",
    [
        "Error: environment variable DATABASE_URL is not set",
        "FATAL missing required environment variable: DATABASE_URL",
        "panic: DATABASE_URL must be set",
        "KeyError: 'DATABASE_URL'",
    ],
)
def test_missing_env_recognises_common_wordings(diagnose, line: str) -> None:
    ev = s.missing_env()
    ev.items = [i if i.kind is not EvidenceKind.LOG else s.log(f"starting\n{line}") for i in ev.items]
    d = diagnose(ev)
    assert d.category is RootCause.MISSING_ENV
    assert (
        d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["env"][0]["name"] == "DATABASE_URL"
    )


def test_a_secret_value_is_restored_by_rolling_back_never_copied_as_a_marker(diagnose) -> None:
    ev = s.missing_env()
    marker = redact_text("postgres://app:Pg-pa55word-7731@db.shop:5432/shop")  # as the evidence holds it
    assert "«redacted:" in marker
    with_db = s.container(env=[{"name": "DATABASE_URL", "value": marker}])
    ev.items = [i if i.id != "rollout:6" else s.rollout(6, [with_db]) for i in ev.items]
    d = diagnose(ev)
    assert d.category is RootCause.MISSING_ENV
    assert d.remediation.action is ActionType.ROLLBACK and d.remediation.revision == 6
    assert d.remediation.manifest_patch() is None, "the value comes back with the revision, not a copy"
    assert "rollout:6" in d.cited_evidence


def test_a_secret_value_removed_by_a_commit_is_restored_by_reverting_it(diagnose) -> None:
    ev = s.missing_env()
    with_db = s.container(env=[{"name": "DATABASE_URL", "value": redact_text("password=Pg-pa55word-7731")}])
    ev.items = [i if i.id != "rollout:6" else s.rollout(6, [with_db]) for i in ev.items]
    sha = "c0ffee" * 6 + "c0ff"
    ev.items.append(
        s.commit(
            sha,
            "drop env",
            "--- a/d.yaml\n+++ b/d.yaml\n@@ -1 +0,0 @@\n-  - name: DATABASE_URL\n",
            ["d.yaml"],
        )
    )
    d = diagnose(ev)
    assert d.remediation.action is ActionType.REVERT_COMMIT and d.remediation.commit == sha
