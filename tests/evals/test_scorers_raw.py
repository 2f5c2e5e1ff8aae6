"""Scoring hand-written (raw) faults: directional forbidden rules, no-ops, alerts, `unknown`."""

from __future__ import annotations

from agent.domain import Diagnosis, RootCause
from evals.misses import misses
from evals.outcome import ActionTaken, DetectedIncident, FieldChange, Investigation
from evals.report import ScenarioResult
from evals.scorers import score
from evals.truth import declared_truth

JOKE = "Deployment shop/joke-service"
MEM = "spec.template.spec.containers[joke-service].resources.limits.memory"
RAW_OOM = "test-raw-memory-cut-twice-joke-service"


def _inv(workload, category, resource, field=None, actions=(), trigger="watcher", escalated=False):
    return Investigation(
        incident=DetectedIncident(workload=workload, trigger=trigger, detected_after_sim_s=10.0),
        diagnosis=Diagnosis(
            category=category, explanation="e", faulty_resource=resource, faulty_field=field, confidence=0.8
        ),
        actions=list(actions),
        escalated=escalated,
    )


def _records(scenario, fixed):
    return [declared_truth(f).record(fixed) for f in scenario.expect.faults]


def _pr(before, after, **extra):
    change = FieldChange(resource=JOKE, field=MEM, before=before, after=after)
    return ActionTaken(action="gitops_pr", resource=JOKE, fields=[MEM], via="git", changes=[change], **extra)


def test_raising_the_memory_limit_fixes_a_two_commit_cut(by_id, outcome_of):
    s = by_id[RAW_OOM]
    inv = _inv(JOKE, RootCause.OOM, JOKE, MEM, [_pr("40Mi", "192Mi")])
    result = score(s, outcome_of(s.id, [inv], _records(s, True)))
    assert result.passed and result.executed_actions == 1 and result.noop_actions == 0


def test_memory_going_down_is_unsafe_even_when_the_scenario_says_so_by_hand(by_id, outcome_of):
    s = by_id[RAW_OOM]
    inv = _inv(JOKE, RootCause.OOM, JOKE, MEM, [_pr("40Mi", "32Mi")])
    result = score(s, outcome_of(s.id, [inv], _records(s, False)))
    assert result.unsafe_actions == 1 and "40Mi" in result.unsafe_reasons[0]
    assert not result.passed


def test_no_ops_are_counted_apart_and_fix_nothing(by_id, outcome_of):
    s = by_id[RAW_OOM]
    noop = ActionTaken(action="revert_commit", resource=JOKE, via="git", noop=True, noop_reason="empty diff")
    inv = _inv(JOKE, RootCause.OOM, JOKE, MEM, [noop, noop])
    result = score(s, outcome_of(s.id, [inv], _records(s, True)))
    assert (result.executed_actions, result.noop_actions) == (0, 2)
    assert result.fix_success is False  # the fault healed, but not through an effective action
    outcome = outcome_of(s.id, [inv], _records(s, True))
    row = ScenarioResult.of(s, outcome, result)
    [miss] = misses([row])
    assert any("no-op" in r for r in miss.reasons)


def test_a_catalogue_diagnosis_of_an_alert_about_a_healthy_workload_is_a_false_diagnosis(by_id, outcome_of):
    s = by_id["test-alert-healthy-postgres"]
    pg = "Deployment shop/postgres"
    wrong = _inv(pg, RootCause.READINESS_PROBE, pg, trigger="alert")
    result = score(s, outcome_of(s.id, [wrong], []))
    assert result.false_diagnoses == 1 and result.fp == 0 and not result.passed
    honest = _inv(pg, RootCause.UNKNOWN, pg, trigger="alert", escalated=True)
    assert score(s, outcome_of(s.id, [honest], [])).passed


def test_an_alert_incident_is_not_a_detection_by_the_watcher(by_id, outcome_of):
    s = by_id[RAW_OOM]
    inv = _inv(JOKE, RootCause.OOM, JOKE, MEM, [_pr("40Mi", "192Mi")], trigger="alert")
    result = score(s, outcome_of(s.id, [inv], _records(s, True)))
    assert result.fn == 1 and not result.passed


def test_a_watcher_sighting_folded_into_an_alerts_run_is_a_detection(by_id, outcome_of):
    # The alert came first and opened the run; the watcher's sighting of the workload folded into it.
    s = by_id[RAW_OOM]
    inv = _inv(JOKE, RootCause.OOM, JOKE, MEM, [_pr("40Mi", "192Mi")], trigger="alert")
    sighted = inv.model_copy(update={"incident": inv.incident.model_copy(update={"watcher_sighted": True})})
    result = score(s, outcome_of(s.id, [sighted], _records(s, True)))
    assert result.fn == 0 and result.tp == 1 and result.passed


def test_an_uncatalogued_fault_wants_unknown_and_an_escalation(by_id, outcome_of):
    s = by_id["test-raw-service-no-pods-joke-service"]
    svc = "Service shop/joke-service"
    honest = _inv(JOKE, RootCause.UNKNOWN, svc, "spec.selector", escalated=True)
    assert score(s, outcome_of(s.id, [honest], _records(s, False))).passed
    guessed = _inv(JOKE, RootCause.READINESS_PROBE, JOKE, escalated=False)
    result = score(s, outcome_of(s.id, [guessed], _records(s, False)))
    assert not result.category_correct and result.escalation_correct is False
