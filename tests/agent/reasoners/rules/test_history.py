"""Fixes that reason over history: the last known-good value, a cut over several commits restored in
one go, never a revision that was failing (agent/reasoners/rules/history and the rules using it)."""

from __future__ import annotations

from agent.domain import ActionType, RootCause
from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.history import good_revision, known_failing
from tests.agent import evidence_samples as s


def _memory(limit: str):
    return s.container(resources={"requests": {"cpu": "100m", "memory": "64Mi"}, "limits": {"memory": limit}})


def _cut(sha: str, old: str, new: str, message: str):
    diff = (
        "--- a/apps/web-api/deployment.yaml\n+++ b/apps/web-api/deployment.yaml\n@@ -30,3 +30,3 @@\n"
        f"           limits:\n-            memory: {old}\n+            memory: {new}\n"
    )
    return s.commit(sha, message, diff, ["apps/web-api/deployment.yaml"])


def _oom(*extra, limit: str = "128Mi"):
    return s.evidence(
        s.status(
            restart_count=5,
            waiting_reason="CrashLoopBackOff",
            last_terminated_reason="OOMKilled",
            exit_code=137,
        ),
        s.BACKOFF,
        *extra,
        live=s.manifest(_memory(limit)),
    )


def test_a_memory_limit_cut_over_two_commits_is_restored_to_the_value_before_the_first(diagnose) -> None:
    newer = _cut("2" * 40, "192Mi", "128Mi", "tune memory further")
    older = _cut("1" * 40, "512Mi", "192Mi", "right-size web-api")
    d = diagnose(_oom(newer, older))
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


def _probe(path: str):
    return s.container(readinessProbe={"httpGet": {"path": path, "port": 8080}, "periodSeconds": 5})


def _not_ready(*rollouts, live_path: str = "/health-check"):
    return s.evidence(
        s.status(
            ready=False,
            state="running",
            conditions=[{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        ),
        s.event(1, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 404", count=40),
        s.log(f"INFO serving on :8080\nINFO GET {live_path} 404\nINFO GET /ready 200", previous=False),
        *rollouts,
        live=s.manifest(_probe(live_path)),
    )


def test_a_broken_readiness_probe_is_restored_from_the_revision_that_serves(diagnose) -> None:
    d = diagnose(
        _not_ready(
            s.rollout(2, [_probe("/status")], pods=(0, 0)),
            s.rollout(3, [_probe("/ready")], pods=(2, 2)),
            s.rollout(4, [_probe("/health-check")], current=True, pods=(1, 0)),
        )
    )
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
