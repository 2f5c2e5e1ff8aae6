"""The decision node: act, ask a human, escalate, or just report.

`decide` is the whole decision table as a pure function of named inputs; the node gathers
those inputs from the state, the policy and the breakers, and records the route with a
rationale that names every input that mattered. Precedence, first match wins:

1. no diagnosis                                   -> escalate
2. the diagnosis blames a dependency workload, or a field of a Service (graph/policies/follow),
   the confidence is at or above the ask threshold and the reasoner breaker is not open ->
   follow (investigate it in this run; read-only, so report mode follows too)
3. mode `report`                                  -> report (never mutates)
4. reasoner breaker open                          -> escalate
5. confidence below the ask threshold             -> escalate
6. nothing to change: no action or `none`         -> report;
   `notify` (the fix is out of reach or not derivable from the evidence) -> escalate: a human
   must act, so the diagnosis pages instead of being only posted
7. the action is a no-op (graph/policies/no_op: an empty diff, a revert of a revert or of a change
   already undone, a rollback to the current or a failing revision) -> escalate; never executed,
   never counted as a fix
8. policy denies the proposal                     -> escalate
9. a PR for this fingerprint is already open and the action would open another -> report
10. target breaker open                           -> escalate
11. mode `approve`                                -> ask
12. mode `autonomous`: target breaker half-open (the trial after a cooldown) -> ask;
    the proposed kind of fix failed repeatedly on this workload (learned confidence) -> ask;
    confidence at or above the act threshold -> act; otherwise -> ask

With incident memory wired, the act threshold is the one learned confidence
(graph/policies/learned_confidence) derives from how often this kind of fix worked.

"Target" is the run's current subject: the incident's workload, or the dependency it followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from langgraph.runtime import Runtime

from agent.config import Mode, Thresholds
from agent.domain import ActionType, Diagnosis, WorkloadRef
from graph.approval_request import build_approval_request
from graph.breaker import REASONER_KEY, BreakerStatus, BreakerView, target_key
from graph.context import HealingContext
from graph.memory import fix_kind_of
from graph.overrides import effective_config
from graph.policies import MUTATING, PR_ACTIONS, PolicyVerdict, evaluate_remediation
from graph.policies.follow import dependency_to_follow
from graph.policies.learned_confidence import LearnedConfidence, learned_confidence
from graph.policies.no_op import no_op_reason
from graph.state import (
    BreakerData,
    DecisionRecord,
    HealingState,
    Route,
    best_diagnosis,
    current_attempt,
    latest_evidence,
    subject_incident,
    visited_of,
)
from graph.tracing import NodeTrace

NODE = "decision"


@dataclass(frozen=True)
class DecisionInputs:
    """Everything the decision table looks at."""

    mode: Mode
    thresholds: Thresholds
    diagnosis: Diagnosis | None
    policy: PolicyVerdict | None  # None when nothing would be changed
    target_breaker: BreakerView
    reasoner_breaker: BreakerView
    open_pr: str | None = None
    reasoner_error: str | None = None
    attempt: int = 1
    follow: WorkloadRef | None = None  # the dependency the diagnosis blames, when it may be followed
    no_op: str | None = None  # why the proposed action would change nothing (graph/policies/no_op)
    learned: LearnedConfidence | None = None  # what past outcomes of this kind of fix say

    def summary(self) -> dict[str, Any]:
        """The inputs as JSON, for the decision record."""
        remediation = self.diagnosis.remediation if self.diagnosis else None
        return {
            "mode": self.mode.value,
            "thresholds": {"act": self.thresholds.act, "ask": self.thresholds.ask},
            "confidence": self.diagnosis.confidence if self.diagnosis else None,
            "category": self.diagnosis.category.value if self.diagnosis else None,
            "action": remediation.action.value if remediation else None,
            "policy": self.policy.to_data() if self.policy else None,
            "target_breaker": _breaker_data(self.target_breaker),
            "reasoner_breaker": _breaker_data(self.reasoner_breaker),
            "open_pr_for_fingerprint": self.open_pr,
            "reasoner_error": self.reasoner_error,
            "attempt": self.attempt,
            "follow": self.follow.model_dump(mode="json") if self.follow else None,
            "no_op": self.no_op,
            "learned": self.learned.to_data() if self.learned else None,
        }


@dataclass(frozen=True)
class Decision:
    """A route and the human-readable reason for it."""

    route: Route
    rationale: str
    inputs: dict[str, Any]


def _breaker_data(view: BreakerView) -> BreakerData:
    return BreakerData(
        key=view.key, status=view.status.value, events_in_window=view.events_in_window, limit=view.limit
    )


def _route(inputs: DecisionInputs) -> tuple[Route, str]:
    """The decision table itself: (route, the one-line reason)."""
    diagnosis, mode, thresholds = inputs.diagnosis, inputs.mode, inputs.thresholds
    if diagnosis is None:
        detail = f": {inputs.reasoner_error}" if inputs.reasoner_error else ""
        return Route.ESCALATE, f"no diagnosis{detail}"
    if (
        inputs.follow is not None
        and inputs.reasoner_breaker.status is not BreakerStatus.OPEN
        and diagnosis.confidence >= thresholds.ask
    ):
        return Route.FOLLOW, (
            f"the fault is in the dependency {inputs.follow}, not here; investigating it in this run"
        )
    if mode is Mode.REPORT:
        return Route.REPORT, "report mode never changes anything; the diagnosis is posted"
    if inputs.reasoner_breaker.status is BreakerStatus.OPEN:
        return Route.ESCALATE, "the reasoner breaker is open after repeated reasoner failures"
    confidence = diagnosis.confidence
    if confidence < thresholds.ask:
        return Route.ESCALATE, f"confidence {confidence:.2f} is below the ask threshold {thresholds.ask:.2f}"
    remediation = diagnosis.remediation
    if remediation is not None and remediation.action is ActionType.NOTIFY:
        why = f": {remediation.rationale}" if remediation.rationale else ""
        return Route.ESCALATE, f"no fix within reach; a human must act{why}"
    if remediation is None or remediation.action not in MUTATING:
        return Route.REPORT, "the diagnosis proposes no change; it is posted"
    if inputs.no_op is not None:
        return Route.ESCALATE, f"no-op {remediation.action.value}, not executed: {inputs.no_op}"
    if inputs.policy is None or not inputs.policy.allowed:
        reasons = "; ".join(inputs.policy.reasons) if inputs.policy else "no policy verdict"
        return Route.ESCALATE, f"policy denies {remediation.action.value}: {reasons}"
    if inputs.open_pr and remediation.action in PR_ACTIONS:
        return (
            Route.REPORT,
            f"a pull request for this incident is already open ({inputs.open_pr}); no new one",
        )
    target = inputs.target_breaker
    if target.status is BreakerStatus.OPEN:
        return Route.ESCALATE, f"the breaker for {target.key} is open: too many recent remediation attempts"
    if mode is Mode.APPROVE:
        return Route.ASK, "approve mode: every action waits for a human"
    if target.status is BreakerStatus.HALF_OPEN:
        return Route.ASK, f"the breaker for {target.key} is half-open: the trial attempt needs a human"
    if inputs.learned is not None and inputs.learned.ask_instead:
        return Route.ASK, f"learned confidence: {inputs.learned.reason}"
    if confidence >= thresholds.act:
        return Route.ACT, f"confidence {confidence:.2f} clears the act threshold {thresholds.act:.2f}"
    return Route.ASK, (
        f"confidence {confidence:.2f} is between the ask ({thresholds.ask:.2f}) "
        f"and act ({thresholds.act:.2f}) thresholds"
    )


def _input_lines(inputs: DecisionInputs) -> list[str]:
    diagnosis = inputs.diagnosis
    lines = [f"mode: {inputs.mode.value}"]
    if diagnosis is not None:
        lines.append(
            f"diagnosis: {diagnosis.category.value} at confidence {diagnosis.confidence:.2f} "
            f"(act >= {inputs.thresholds.act:.2f}, ask >= {inputs.thresholds.ask:.2f})"
        )
        remediation = diagnosis.remediation
        lines.append(f"proposed action: {remediation.action.value if remediation else 'none'}")
        if inputs.follow is not None:
            lines.append(f"dependency blamed: {inputs.follow}")
    elif inputs.reasoner_error:
        lines.append(f"reasoner error: {inputs.reasoner_error}")
    if inputs.no_op is not None:
        lines.append(f"no-op: {inputs.no_op}")
    if inputs.policy is not None:
        verdict = "allow" if inputs.policy.allowed else "deny"
        lines.append(f"policy: {verdict} ({'; '.join(inputs.policy.reasons)})")
    lines.append(inputs.target_breaker.describe())
    lines.append(inputs.reasoner_breaker.describe())
    lines.append(f"open PR for this fingerprint: {inputs.open_pr or 'none'}")
    lines.append(f"attempt: {inputs.attempt}")
    if inputs.learned is not None:
        lines.append(f"learned confidence: {inputs.learned.reason}")
    return lines


def decide(inputs: DecisionInputs) -> Decision:
    """Apply the decision table (see the module docstring) and explain the result."""
    route, reason = _route(inputs)
    rationale = "\n".join(
        [f"{route.value}: {reason}", "inputs:", *(f"- {line}" for line in _input_lines(inputs))]
    )
    return Decision(route, rationale, inputs.summary())


def decision(state: HealingState, runtime: Runtime[HealingContext]) -> dict[str, Any]:
    """The decision node: state in, `{"decision": DecisionRecord}` out.

    The breakers are only read here; the remediation node records attempts on the target breaker
    (and verification records successes), the analyst records failures on the reasoner breaker.
    """
    ctx = runtime.context
    config = ctx.decision
    incident = subject_incident(state)
    mode, thresholds, overrides = effective_config(config.mode, config.thresholds, incident)
    if overrides and state.get("follows"):
        # A ParamedicWatch speaks for the workloads it selects, not for a dependency they blame.
        mode, thresholds = config.mode, config.thresholds
        overrides = [f"not applied to the followed dependency {incident.target}: {o}" for o in overrides]
    diagnosis = best_diagnosis(state)
    remediation = diagnosis.remediation if diagnosis else None
    verdict: PolicyVerdict | None = None
    no_op: str | None = None
    if remediation is not None and remediation.action in MUTATING:
        # Judge the exact proposal being decided on, and honour an auditor's denial too.
        evidence = latest_evidence(state)
        manifest = evidence.manifest if evidence else None
        no_op = no_op_reason(
            remediation, manifest=manifest, evidence=evidence, done=state.get("actions") or []
        )
        verdict = evaluate_remediation(remediation, incident.target, manifest=manifest, config=config.policy)
        audit_policy = (state.get("audit") or {}).get("policy")
        if verdict.allowed and audit_policy and audit_policy["verdict"] != "allow":
            reasons = tuple(f"auditor: {r}" for r in audit_policy["reasons"]) or ("auditor denied",)
            verdict = PolicyVerdict(verdict.action, False, reasons)
    learned = _learned(ctx, diagnosis, incident.target, thresholds)
    inputs = DecisionInputs(
        mode=mode,
        thresholds=learned.thresholds if learned else thresholds,
        diagnosis=diagnosis,
        policy=verdict,
        target_breaker=ctx.breakers.target.view(target_key(incident.target)),
        reasoner_breaker=ctx.breakers.reasoner.view(REASONER_KEY),
        open_pr=state.get("open_pr_for_fingerprint"),
        reasoner_error=state.get("reasoner_error"),
        attempt=current_attempt(state),
        follow=dependency_to_follow(diagnosis, incident.target, visited_of(state)),
        no_op=no_op,
        learned=learned,
    )
    decided = decide(inputs)
    record = DecisionRecord(
        route=decided.route.value,
        rationale=decided.rationale,
        inputs={**decided.inputs, "overrides": overrides} if overrides else decided.inputs,
        attempt=inputs.attempt,
        decided_at=ctx.clock().astimezone(UTC).isoformat(),
    )
    _trace(state, ctx, record)
    return {"decision": record}


def _learned(
    ctx: HealingContext, diagnosis: Diagnosis | None, target: WorkloadRef, thresholds: Thresholds
) -> LearnedConfidence | None:
    """Learned confidence for the proposed kind of fix, when memory is wired and a change is proposed."""
    remediation = diagnosis.remediation if diagnosis else None
    fix_kind = fix_kind_of(remediation)
    if ctx.memory is None or diagnosis is None or remediation is None or remediation.action not in MUTATING:
        return None
    assert fix_kind is not None
    try:
        history = ctx.memory.fix_history(diagnosis.category.value, fix_kind, target)
    except Exception:  # memory is a help: without it, the configured thresholds apply
        return None
    return learned_confidence(history, thresholds)


def _trace(state: HealingState, ctx: HealingContext, record: DecisionRecord) -> None:
    """The route and why (a refused proposal shows here with the policy's reasons), and, when a
    human is asked, the approval request: emitted here because the approval node runs again from its
    top when the answer resumes it, and would ask twice."""
    tracer = NodeTrace(state["run_id"], NODE, ctx.emit)
    tracer.decision(record["route"], record["rationale"], record["inputs"])
    if record["route"] == Route.ASK.value:
        try:
            request = build_approval_request({**state, "decision": record}, ctx.approval_ttl)
        except ValueError as exc:  # the approval node records it as invalid
            tracer.note(f"no approval request: {exc}")
            return
        tracer.approval("requested", **request.model_dump(mode="json"))
