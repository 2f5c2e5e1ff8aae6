"""Fixes that reason over history: the last known-good value, a cut over several commits restored in
one go, never a revision that was failing (agent/reasoners/rules/history and the rules using it)."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.history import good_revision, known_failing
from tests.agent import evidence_samples as s

_memory, _cut, _oom = s.memory_limit, s.memory_cut, s.oom_killed


def test_a_memory_limit_cut_over_two_commits_is_restored_to_the_value_before_the_first(diagnose) -> None:
    d = diagnose(s.memory_cut_over_two_commits())
    assert d.category is RootCause.OOM
    assert d.faulty_field == "spec.template.spec.containers[app].resources.limits.memory"
    assert d.remediation.action is ActionType.GITOPS_PR, "reverting only the newest cut leaves the older one"
    container = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "512Mi"
    assert {f"commit:{'1' * 12}", f"commit:{'2' * 12}"} <= set(d.cited_evidence)


def test_an_unrelated_older_memory_change_does_not_join_the_run(diagnose) -> None:
    newer = _cut("2" * 40, "256Mi", "128Mi", "tune memory")
    unrelated = _cut("1" * 40, "1Gi", "768Mi", "older change, since undone by hand")
    d = diagnose(_oom(newer, unrelated))
    container = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "256Mi"


def test_a_reverted_cut_is_not_reverted_again(diagnose) -> None:
    cut = _cut("1" * 40, "256Mi", "128Mi", "cut memory")
    revert = s.commit(
        "3" * 40,
        f'Revert "cut memory"\n\nThis reverts commit {"1" * 40}.',
        "-            memory: 128Mi\n+            memory: 256Mi\n",
        ["apps/web-api/deployment.yaml"],
    )
    d = diagnose(_oom(revert, cut, limit="256Mi"))
    assert not (
        d.remediation.action is ActionType.REVERT_COMMIT and d.remediation.commit in ("1" * 40, "3" * 40)
    )


def test_the_limit_comes_from_the_revision_still_serving(diagnose) -> None:
    d = diagnose(
        _oom(
            s.rollout(3, [_memory("1Gi")], pods=(0, 0)),
            s.rollout(4, [_memory("384Mi")], pods=(2, 2)),
            s.rollout(5, [_memory("128Mi")], current=True, pods=(1, 0)),
        )
    )
    container = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "384Mi"
    assert "rollout:4" in d.cited_evidence


_probe, _not_ready = s.probe_path, s.not_ready


def test_a_broken_readiness_probe_is_restored_from_the_revision_that_serves(diagnose) -> None:
    d = diagnose(s.readiness_probe_with_history())
    assert d.category is RootCause.READINESS_PROBE
    assert d.faulty_field == "spec.template.spec.containers[app].readinessProbe.httpGet.path"
    probe = d.remediation.patch["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
    assert probe == {"httpGet": {"path": "/ready"}}


def test_a_revision_that_was_failing_is_never_the_one_restored(diagnose) -> None:
    evidence = _not_ready(
        s.rollout(2, [_probe("/ready")]),
        s.rollout(3, [_probe("/healthcheck")], pods=(1, 0)),
        s.rollout(4, [_probe("/health-check")], current=True, pods=(1, 0)),
    )
    view = EvidenceView(evidence)
    assert known_failing(view) == {3, 4}
    found = good_revision(view)
    assert found is not None and found[0].revision == 2 and found[1] is False
    d = diagnose(evidence)
    remediation = d.remediation
    if remediation.action is ActionType.ROLLBACK:
        assert remediation.revision == 2
    else:
        probe = remediation.patch["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]
        assert probe["httpGet"]["path"] == "/ready"


def test_no_revision_to_go_back_to_when_the_current_one_serves(diagnose) -> None:
    view = EvidenceView(
        s.evidence(
            s.status(ready=True, state="running"),
            s.deployment_status("web-api", replicas=2, ready=2),
            s.rollout(1, [_probe("/ready")]),
            s.rollout(2, [_probe("/healthz")], current=True, pods=(2, 2)),
        )
    )
    assert good_revision(view) is None
