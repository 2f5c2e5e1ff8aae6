"""Honest uncertainty: evidence that matches a cause only in part yields `unknown`, low confidence, a
summary of what was seen, and an escalation; a healthy workload gets nothing proposed."""

from __future__ import annotations

from agent.domain import ActionType, Incident, RootCause, Trigger
from agent.reasoners.rules import RulesReasoner
from tests.agent import evidence_samples as s
from tests.incidents import make_incident

ASK = 0.5  # the default ask threshold: below it, the decision escalates


def _alert(reason: str = "KubePodNotReady") -> Incident:
    return make_incident(s.TARGET, reason, id="inc-alert", trigger=Trigger.ALERT)


def test_an_alert_about_a_healthy_workload_is_not_a_confident_readiness_probe() -> None:
    result = RulesReasoner().diagnose(_alert(), s.healthy_after_a_blip())
    d = result.diagnosis
    assert d.category is RootCause.UNKNOWN and d.confidence < ASK
    assert d.remediation.action not in (ActionType.REVERT_COMMIT, ActionType.ROLLBACK, ActionType.GITOPS_PR)
    assert "2/2 replicas ready" in d.explanation
    assert "status:deployment/web-api" in d.cited_evidence


def test_a_partial_match_names_what_is_missing_and_escalates() -> None:
    evidence = s.evidence(
        s.status(ready=False, state="running"),
        s.deployment_status("web-api", replicas=2, ready=1),
        s.status(ready=True, restart_count=1, state="running", pod="web-api-7d9f8c6b5-other"),
        s.event(1, "Warning", "OOMKilled earlier, container restarted", count=1),
        s.log("ERROR cannot reach payments: connection refused", previous=False),
    )
    d = RulesReasoner().diagnose(_alert("TargetDown"), evidence).diagnosis
    if d.category is RootCause.UNKNOWN:
        assert d.confidence < ASK and d.remediation.action is ActionType.NOTIFY
        assert "What was seen" in d.explanation
    else:
        assert d.confidence >= ASK, "a named category must rest on its whole signature"


def test_an_old_oom_kill_on_a_workload_running_fine_is_history_not_the_incident(diagnose) -> None:
    evidence = s.evidence(
        s.status(
            ready=True, restart_count=1, state="running", last_terminated_reason="OOMKilled", exit_code=137
        ),
        s.deployment_status("web-api", replicas=2, ready=2),
    )
    d = diagnose(evidence)
    assert d.category is RootCause.UNKNOWN and d.confidence < ASK
    assert d.remediation.action in (ActionType.NONE, ActionType.NOTIFY)


def test_a_fresh_oom_kill_after_a_memory_cut_is_the_incident_even_while_the_container_is_up(diagnose) -> None:
    # Caught between two kills: the restarted container runs for a moment. A commit cut the limit
    # the workload ran with, so the kill is the incident, not history.
    cut = s.container(resources={"limits": {"memory": "16Mi"}})
    diff = (
        "--- a/apps/web-api.yaml\n+++ b/apps/web-api.yaml\n"
        "-            memory: 256Mi\n+            memory: 16Mi\n"
    )
    evidence = s.evidence(
        s.status(
            ready=True, restart_count=1, state="running", last_terminated_reason="OOMKilled", exit_code=137
        ),
        s.deployment_status("web-api", replicas=1, ready=1),
        s.commit("cd34" * 10, "web-api: trim memory to save costs", diff, ["apps/web-api.yaml"]),
        live=s.manifest(cut, replicas=1),
    )
    d = diagnose(evidence)
    assert d.category is RootCause.OOM and d.confidence >= ASK
    assert d.remediation.action is ActionType.GITOPS_PR
    assert "256Mi" in str(d.remediation.manifest_patch())


def test_the_unknown_answer_keeps_the_partial_matches_in_the_trace() -> None:
    evidence = s.evidence(
        s.status(
            ready=True, restart_count=1, state="running", last_terminated_reason="OOMKilled", exit_code=137
        ),
        s.deployment_status("web-api", replicas=2, ready=2),
    )
    result = RulesReasoner().diagnose(s.incident("OOMKilled"), evidence)
    partial = [t for t in result.trace if t.detail.get("missing")]
    assert partial and partial[0].detail["category"] == "oom"
    assert "failing now" in " ".join(partial[0].detail["missing"])


def test_every_catalogue_sample_still_matches_whole(diagnose) -> None:
    for sample, category in [
        (s.oom(), RootCause.OOM),
        (s.bad_image(), RootCause.BAD_IMAGE),
        (s.missing_config_key(), RootCause.MISSING_CONFIG_KEY),
        (s.readiness_probe(), RootCause.READINESS_PROBE),
        (s.unschedulable(), RootCause.UNSCHEDULABLE),
    ]:
        d = diagnose(sample)
        assert d.category is category and d.confidence >= ASK, category
