"""The decision node: the full table over modes x confidence x breakers, and the special routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from agent.config import Mode, Settings, Thresholds
from agent.domain import (
    ActionType,
    Diagnosis,
    DirectPatch,
    Evidence,
    GitOpsPullRequest,
    Incident,
    NoAction,
    Notify,
    ProposedRemediation,
    Restart,
    Rollback,
    RootCause,
    Trigger,
    WorkloadRef,
    remediation_from,
)
from graph.breaker import (
    REASONER_KEY,
    BreakerPolicy,
    BreakerStatus,
    BreakerView,
    CircuitBreaker,
    InMemoryBreakerStore,
    target_key,
)
from graph.context import Breakers, DecisionConfig
from graph.edges import route_after_decision
from graph.nodes.decision import DecisionInputs, decide, decision
from graph.policies import PolicyConfig, evaluate_remediation
from graph.state import HealingState, Route, candidate, follow_record, initial_state, to_data
from tests.clocks import ManualClock
from tests.graph.contexts import bound, healing_context

TARGET = WorkloadRef(namespace="shop", name="web-api")
RESTART = Restart()
CONFIDENCE = {"low": 0.3, "mid": 0.65, "high": 0.9}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _view(status: BreakerStatus, key: str = "shop/deployment/web-api") -> BreakerView:
    return BreakerView(key, status, 3 if status is not BreakerStatus.CLOSED else 0, 3, None)


def _diagnosis(
    confidence: float,
    remediation: ProposedRemediation | None = RESTART,
    category: RootCause = RootCause.OOM,
    explanation: str = "the container is OOMKilled",
    faulty_resource: str = "Deployment shop/web-api",
) -> Diagnosis:
    return Diagnosis(
        category=category,
        explanation=explanation,
        faulty_resource=faulty_resource,
        confidence=confidence,
        remediation=remediation,
    )


def _inputs(
    mode: Mode = Mode.AUTONOMOUS,
    confidence: float | None = 0.9,
    remediation: ProposedRemediation | None = RESTART,
    target: BreakerStatus = BreakerStatus.CLOSED,
    reasoner: BreakerStatus = BreakerStatus.CLOSED,
    thresholds: Thresholds | None = None,
    **kw: Any,
) -> DecisionInputs:
    diagnosis = None if confidence is None else _diagnosis(confidence, remediation)
    policy = kw.pop("policy", None)
    if policy is None and remediation is not None:
        policy = evaluate_remediation(remediation, TARGET)
    return DecisionInputs(
        mode=mode,
        thresholds=thresholds or Thresholds(),
        diagnosis=diagnosis,
        policy=policy,
        target_breaker=_view(target),
        reasoner_breaker=_view(reasoner, REASONER_KEY),
        **kw,
    )


CL, OP, HO = BreakerStatus.CLOSED, BreakerStatus.OPEN, BreakerStatus.HALF_OPEN
# (mode, target breaker, reasoner breaker) -> routes at low / mid / high confidence.
TABLE: dict[tuple[Mode, BreakerStatus, BreakerStatus], str] = {
    (Mode.REPORT, CL, CL): "report report report",
    (Mode.REPORT, CL, OP): "report report report",
    (Mode.REPORT, CL, HO): "report report report",
    (Mode.REPORT, OP, CL): "report report report",
    (Mode.REPORT, OP, OP): "report report report",
    (Mode.REPORT, OP, HO): "report report report",
    (Mode.REPORT, HO, CL): "report report report",
    (Mode.REPORT, HO, OP): "report report report",
    (Mode.REPORT, HO, HO): "report report report",
    (Mode.APPROVE, CL, CL): "escalate ask ask",
    (Mode.APPROVE, CL, OP): "escalate escalate escalate",
    (Mode.APPROVE, CL, HO): "escalate ask ask",
    (Mode.APPROVE, OP, CL): "escalate escalate escalate",
    (Mode.APPROVE, OP, OP): "escalate escalate escalate",
    (Mode.APPROVE, OP, HO): "escalate escalate escalate",
    (Mode.APPROVE, HO, CL): "escalate ask ask",
    (Mode.APPROVE, HO, OP): "escalate escalate escalate",
    (Mode.APPROVE, HO, HO): "escalate ask ask",
    (Mode.AUTONOMOUS, CL, CL): "escalate ask act",
    (Mode.AUTONOMOUS, CL, OP): "escalate escalate escalate",
    (Mode.AUTONOMOUS, CL, HO): "escalate ask act",
    (Mode.AUTONOMOUS, OP, CL): "escalate escalate escalate",
    (Mode.AUTONOMOUS, OP, OP): "escalate escalate escalate",
    (Mode.AUTONOMOUS, OP, HO): "escalate escalate escalate",
    (Mode.AUTONOMOUS, HO, CL): "escalate ask ask",
    (Mode.AUTONOMOUS, HO, OP): "escalate escalate escalate",
    (Mode.AUTONOMOUS, HO, HO): "escalate ask ask",
}
CASES = [
    (mode, target, reasoner, level, Route(expected))
    for (mode, target, reasoner), routes in TABLE.items()
    for level, expected in zip(("low", "mid", "high"), routes.split(), strict=True)
]


@pytest.mark.parametrize(
    ("mode", "target", "reasoner", "level", "expected"),
    CASES,
    ids=[f"{m.value}-target_{t.value}-reasoner_{r.value}-{lvl}" for m, t, r, lvl, _ in CASES],
)
def test_decision_table(
    mode: Mode, target: BreakerStatus, reasoner: BreakerStatus, level: str, expected: Route
) -> None:
    decision = decide(_inputs(mode, CONFIDENCE[level], target=target, reasoner=reasoner))
    assert decision.route is expected
    assert decision.rationale.startswith(f"{expected.value}: ")
    assert f"mode: {mode.value}" in decision.rationale
    assert f"confidence {CONFIDENCE[level]:.2f}" in decision.rationale
    assert f"{target.value} (" in decision.rationale and "proposed action: restart" in decision.rationale


def test_table_covers_every_combination() -> None:
    assert len(CASES) == len(Mode) * len(BreakerStatus) ** 2 * 3


@pytest.mark.parametrize(
    ("confidence", "act", "ask", "expected"),
    [
        (0.8, 0.8, 0.5, Route.ACT),  # thresholds are inclusive
        (0.7999, 0.8, 0.5, Route.ASK),
        (0.5, 0.8, 0.5, Route.ASK),
        (0.4999, 0.8, 0.5, Route.ESCALATE),
        (0.6, 0.6, 0.6, Route.ACT),
        (0.95, 0.99, 0.1, Route.ASK),
        (0.0, 0.0, 0.0, Route.ACT),
    ],
)
def test_thresholds_are_configurable(confidence: float, act: float, ask: float, expected: Route) -> None:
    decision = decide(_inputs(confidence=confidence, thresholds=Thresholds(act=act, ask=ask)))
    assert decision.route is expected
    assert f"act >= {act:.2f}, ask >= {ask:.2f}" in decision.rationale


def test_no_diagnosis_escalates_in_every_mode() -> None:
    for mode in Mode:
        decision = decide(_inputs(mode, confidence=None, reasoner_error="model timed out"))
        assert decision.route is Route.ESCALATE
        assert "no diagnosis: model timed out" in decision.rationale


@pytest.mark.parametrize(
    "remediation",
    [None, NoAction()],
)
def test_nothing_to_change_is_reported(remediation: ProposedRemediation | None) -> None:
    decision = decide(_inputs(Mode.AUTONOMOUS, 0.95, remediation=remediation))
    assert decision.route is Route.REPORT
    assert "proposes no change" in decision.rationale


@pytest.mark.parametrize("mode", [Mode.APPROVE, Mode.AUTONOMOUS])
def test_a_fix_out_of_reach_escalates_with_its_reason(mode: Mode) -> None:
    # a confident diagnosis whose only proposal is to tell humans (node pressure, a Service
    # selecting nothing) pages them: posting it as a report would leave the outage unowned
    notify = Notify(rationale="node pressure needs a human (capacity, noisy neighbours)")
    decision = decide(_inputs(mode, 0.95, remediation=notify))
    assert decision.route is Route.ESCALATE
    assert "a human must act: node pressure needs a human" in decision.rationale


def test_report_mode_only_posts_a_fix_out_of_reach() -> None:
    decision = decide(_inputs(Mode.REPORT, 0.95, remediation=Notify(rationale="no node matches")))
    assert decision.route is Route.REPORT


@pytest.mark.parametrize("mode", [Mode.APPROVE, Mode.AUTONOMOUS])
def test_policy_denial_escalates(mode: Mode) -> None:
    hostile = DirectPatch(
        patch={
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": "app", "securityContext": {"privileged": True}}]}
                }
            }
        },
    )
    decision = decide(_inputs(mode, 0.99, remediation=hostile))
    assert decision.route is Route.ESCALATE
    assert "policy denies patch" in decision.rationale and "privileged container" in decision.rationale
    assert decision.inputs["policy"]["verdict"] == "deny"


def test_missing_policy_verdict_for_a_change_escalates() -> None:
    inputs = _inputs(Mode.AUTONOMOUS, 0.99)
    inputs = DecisionInputs(**{**inputs.__dict__, "policy": None})
    assert decide(inputs).route is Route.ESCALATE


@pytest.mark.parametrize(
    ("action", "parameters", "expected"),
    [
        (ActionType.GITOPS_PR, {}, Route.REPORT),
        (ActionType.REVERT_COMMIT, {"commit": "abcdef12"}, Route.REPORT),
        (ActionType.RESTART, {}, Route.ACT),  # not a PR: the open PR does not block it
    ],
)
def test_open_pr_for_the_fingerprint_means_no_new_pr(
    action: ActionType, parameters: dict[str, Any], expected: Route
) -> None:
    patch = {"spec": {"replicas": 3}} if action is ActionType.GITOPS_PR else None
    remediation = remediation_from(action, parameters, patch)
    decision = decide(_inputs(Mode.AUTONOMOUS, 0.95, remediation=remediation, open_pr="https://git/pr/7"))
    assert decision.route is expected
    assert "open PR for this fingerprint: https://git/pr/7" in decision.rationale


def test_decision_inputs_summary_is_json() -> None:
    summary = decide(_inputs(Mode.APPROVE, 0.65)).inputs
    assert summary["mode"] == "approve" and summary["confidence"] == 0.65 and summary["action"] == "restart"
    assert summary["target_breaker"]["status"] == "closed"
    assert summary["policy"]["verdict"] == "allow"


# --- the node ----------------------------------------------------------------------------------


def _state(
    confidence: float, remediation: ProposedRemediation | None = RESTART, **extra: Any
) -> HealingState:
    incident = Incident(
        id="i1", fingerprint="fp1", target=TARGET, trigger=Trigger.WATCHER, reason="OOMKilled"
    )
    state = initial_state("run-1", incident)
    state["diagnoses"] = [candidate(_diagnosis(confidence, remediation), "rules", 1)]
    state.update(extra)  # type: ignore[typeddict-item]
    return state


def _node(
    mode: Mode, clock: ManualClock, store: InMemoryBreakerStore | None = None
) -> tuple[Any, CircuitBreaker]:
    store = store or InMemoryBreakerStore()
    targets = CircuitBreaker(store, BreakerPolicy(2, 3600, 600), clock)
    reasoner = CircuitBreaker(store, BreakerPolicy(2, 3600, 60, reset_on_success=True), clock)
    context = healing_context(
        decision=DecisionConfig(mode=mode), breakers=Breakers(targets, reasoner), clock=lambda: NOW
    )
    node = bound(decision, context)
    return node, targets


def test_node_acts_then_the_target_breaker_stops_it() -> None:
    clock = ManualClock(10_000.0)
    node, targets = _node(Mode.AUTONOMOUS, clock)
    update = node(_state(0.9))
    assert update["decision"]["route"] == "act"
    assert update["decision"]["decided_at"] == "2026-03-01T12:00:00+00:00"
    for _ in range(2):  # what the remediation node records for each real attempt
        targets.record_event(target_key(TARGET))
    update = node(_state(0.9))
    assert update["decision"]["route"] == "escalate"
    assert "breaker for shop/deployment/web-api is open" in update["decision"]["rationale"]
    clock.now += 600
    assert node(_state(0.9))["decision"]["route"] == "ask"  # half-open: a human okays the trial


def test_node_escalates_when_the_reasoner_breaker_is_open() -> None:
    clock = ManualClock(10_000.0)
    store = InMemoryBreakerStore()
    node, _ = _node(Mode.AUTONOMOUS, clock, store)
    reasoner = CircuitBreaker(store, BreakerPolicy(2, 3600, 60, reset_on_success=True), clock)
    reasoner.record_event(REASONER_KEY)
    reasoner.record_event(REASONER_KEY)
    decision = node(_state(0.99))["decision"]
    assert decision["route"] == "escalate" and "reasoner breaker is open" in decision["rationale"]


def test_node_judges_the_proposal_with_the_live_manifest() -> None:
    manifest = {
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "reg.io/shop/web:2"}]}}}
    }
    evidence = to_data(Evidence(target=TARGET, manifest=manifest))
    own = Rollback(
        patch={
            "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "reg.io/shop/web:1"}]}}}
        },
    )
    node, _ = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    assert node(_state(0.9, own, evidence=[evidence]))["decision"]["route"] == "act"
    foreign = own.model_copy(
        update={
            "patch": {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "app", "image": "evil.net/shop/web:1"}]}}
                }
            }
        }
    )
    decision = node(_state(0.9, foreign, evidence=[evidence]))["decision"]
    assert (
        decision["route"] == "escalate"
        and "not from the workload's own repositories" in decision["rationale"]
    )


def test_node_honours_an_auditor_denial() -> None:
    node, _ = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    audit = {"policy": {"verdict": "deny", "action": "restart", "reasons": ["suspect commit touches RBAC"]}}
    decision = node(_state(0.9, audit=audit))["decision"]
    assert decision["route"] == "escalate"
    assert "auditor: suspect commit touches RBAC" in decision["rationale"]


def test_node_uses_the_current_attempts_best_candidate() -> None:
    node, _ = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    state = _state(0.9)
    state["diagnoses"] = [
        candidate(_diagnosis(0.95), "rules", 1),  # an earlier attempt: ignored
        candidate(_diagnosis(0.3), "rules", 2),
        candidate(_diagnosis(0.6), "llm", 2),
    ]
    state["attempt"] = 2
    decision = node(state)["decision"]
    assert decision["route"] == "ask" and decision["inputs"]["confidence"] == 0.6 and decision["attempt"] == 2


def test_node_in_report_mode_and_with_an_open_pr() -> None:
    node, _ = _node(Mode.REPORT, ManualClock(10_000.0))
    assert node(_state(0.99))["decision"]["route"] == "report"
    node, _ = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    pr = GitOpsPullRequest(patch={"spec": {"replicas": 2}})
    decision = node(_state(0.99, pr, open_pr_for_fingerprint="https://git/pr/3"))["decision"]
    assert decision["route"] == "report" and "already open (https://git/pr/3)" in decision["rationale"]


def test_route_after_decision() -> None:
    assert route_after_decision({}) == "escalate"
    node, _ = _node(Mode.APPROVE, ManualClock(10_000.0))
    state = _state(0.9)
    state.update(node(state))  # type: ignore[typeddict-item]
    assert route_after_decision(state) == "ask"


def test_config_from_settings() -> None:
    settings = Settings(
        mode="autonomous", thresholds={"act": 0.9, "ask": 0.4}, scope={"namespaces": ["shop"]}
    )
    config = DecisionConfig.from_settings(settings)
    assert config.mode is Mode.AUTONOMOUS and config.thresholds.act == 0.9
    assert config.policy.namespaces == ("shop",)
    assert DecisionConfig().mode is Mode.REPORT  # the safe default
    assert isinstance(config.policy, PolicyConfig)


def test_node_applies_a_paramedic_watch_mode_only_to_the_watchers_incidents() -> None:
    from agent.watch_labels import MODE_LABEL, WATCH_LABEL

    node, _ = _node(Mode.REPORT, ManualClock(10_000.0))
    labels = {WATCH_LABEL: "shop/web-api", MODE_LABEL: "autonomous"}
    state = _state(0.9)
    state["incident"] = {**state["incident"], "labels": labels}
    update = node(state)
    assert update["decision"]["route"] == "act"
    assert update["decision"]["inputs"]["overrides"] == ["mode autonomous from ParamedicWatch shop/web-api"]
    state["incident"] = {**state["incident"], "trigger": "alert"}  # the same labels on an alert
    assert node(state)["decision"]["route"] == "report"


# --- following a blamed dependency -------------------------------------------------------------

POSTGRES = WorkloadRef(namespace="shop", name="postgres")
NOTIFY = Notify(rationale="dependency postgres is down")


def _blaming(confidence: float = 0.9) -> Diagnosis:
    why = "web-api cannot reach postgres, which has no ready replicas"
    return _diagnosis(confidence, NOTIFY, RootCause.DEPENDENCY_DOWN, why, "Deployment shop/postgres")


@pytest.mark.parametrize("mode", list(Mode))
def test_a_blamed_dependency_is_followed_in_every_mode(mode: Mode) -> None:
    # following is read-only, so even report mode investigates the dependency before posting
    inputs = DecisionInputs(**{**_inputs(mode, remediation=NOTIFY).__dict__, "follow": POSTGRES})
    decision = decide(inputs)
    assert decision.route is Route.FOLLOW
    assert "shop/deployment/postgres" in decision.rationale
    assert "dependency blamed: shop/deployment/postgres" in decision.rationale
    assert decision.inputs["follow"] == {"namespace": "shop", "kind": "Deployment", "name": "postgres"}


@pytest.mark.parametrize(
    ("confidence", "reasoner", "expected"),
    [
        (0.3, BreakerStatus.CLOSED, Route.ESCALATE),  # too unsure to spend another investigation
        (0.9, BreakerStatus.OPEN, Route.ESCALATE),  # the reasoner breaker is open: no more diagnoses
    ],
)
def test_a_dependency_is_not_followed_when_unsure_or_the_reasoner_is_failing(
    confidence: float, reasoner: BreakerStatus, expected: Route
) -> None:
    inputs = _inputs(Mode.AUTONOMOUS, confidence, remediation=NOTIFY, reasoner=reasoner)
    inputs = DecisionInputs(**{**inputs.__dict__, "follow": POSTGRES})
    assert decide(inputs).route is expected


def test_node_follows_then_decides_for_the_dependency() -> None:
    node, targets = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    state = _state(0.9)
    state["diagnoses"] = [candidate(_blaming(), "rules", 1, TARGET)]
    decision = node(state)["decision"]
    assert decision["route"] == "follow", decision["rationale"]
    assert decision["inputs"]["follow"]["name"] == "postgres"

    # the follow node's record makes postgres the subject: its own diagnosis is decided on, with
    # its own breaker, and postgres is not followed again
    state["follows"] = [follow_record(TARGET, POSTGRES, _blaming())]
    own = _diagnosis(0.9).model_copy(update={"faulty_resource": "Deployment shop/postgres"})
    state["diagnoses"] = [*state["diagnoses"], candidate(own, "rules", 1, POSTGRES)]
    decision = node(state)["decision"]
    assert decision["route"] == "act", decision["rationale"]
    assert decision["inputs"]["target_breaker"]["key"] == "shop/deployment/postgres"
    for _ in range(2):
        targets.record_event(target_key(POSTGRES))
    assert node(state)["decision"]["route"] == "escalate"  # postgres's breaker, not web-api's


def test_node_does_not_carry_a_paramedic_watch_over_to_a_followed_dependency() -> None:
    from agent.watch_labels import MODE_LABEL, WATCH_LABEL

    node, _ = _node(Mode.REPORT, ManualClock(10_000.0))
    state = _state(0.9)
    state["incident"] = {**state["incident"], "labels": {WATCH_LABEL: "shop/web", MODE_LABEL: "autonomous"}}
    state["follows"] = [follow_record(TARGET, POSTGRES, _blaming())]
    state["diagnoses"] = [candidate(_diagnosis(0.9), "rules", 1, POSTGRES)]
    decision = node(state)["decision"]
    assert decision["route"] == "report", "the watch selected web-api; postgres runs in the global mode"
    assert decision["inputs"]["overrides"] == [
        "not applied to the followed dependency shop/deployment/postgres: "
        "mode autonomous from ParamedicWatch shop/web"
    ]


def test_a_no_op_is_escalated_not_executed() -> None:
    inputs = _inputs(Mode.AUTONOMOUS, 0.95, no_op="the patch sets only what is already live: an empty diff")
    decided = decide(inputs)
    assert decided.route is Route.ESCALATE and "no-op restart, not executed" in decided.rationale
    assert decided.inputs["no_op"] == "the patch sets only what is already live: an empty diff"


def test_node_escalates_a_patch_that_is_already_live() -> None:
    def app(memory: str) -> dict[str, Any]:
        limits = {"resources": {"limits": {"memory": memory}}}
        return {"spec": {"template": {"spec": {"containers": [{"name": "app", **limits}]}}}}

    evidence = to_data(Evidence(target=TARGET, manifest=app("256Mi")))
    node, _ = _node(Mode.AUTONOMOUS, ManualClock(10_000.0))
    decision = node(_state(0.95, GitOpsPullRequest(patch=app("256Mi")), evidence=[evidence]))["decision"]
    assert decision["route"] == "escalate" and "empty diff" in decision["rationale"]
    assert decision["inputs"]["no_op"]
    raised = node(_state(0.95, GitOpsPullRequest(patch=app("512Mi")), evidence=[evidence]))["decision"]
    assert raised["route"] == "act", raised["rationale"]
