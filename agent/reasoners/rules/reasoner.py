"""The offline, deterministic default reasoner: the rules catalogue over the evidence.

Every rule of the catalogue looks at the evidence. Only a finding that shows its cause's whole
signature can become the diagnosis: the most confident of those wins (ties go to the rule listed
first). When none does, the answer is `unknown`, honestly: low confidence (below the ask
threshold, so the decision escalates), what the evidence shows with the ids to look at, and the
causes that matched in part with what they missed. A workload with no failing signal at all is
said to be healthy, and nothing is proposed.

Nothing is known but what a real cluster shows: the rules never see sandbox ground truth, and no
text in the evidence can steer them beyond matching a signature.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.domain import Diagnosis, Evidence, Incident, RootCause, Usage
from agent.reasoners.base import ReasonerResult, TraceKind, TraceRecord
from agent.reasoners.rules import fields, remedies
from agent.reasoners.rules.catalogue import CATALOGUE, SERVICE_CATALOGUE
from agent.reasoners.rules.context import Finding, Rule, RuleContext, RulesPolicy
from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.logs import serving_errors
from agent.reasoners.rules.quips import quip_for
from agent.reasoners.rules.service_selector import SERVICE
from agent.reasoners.rules.summary import summarise

UNKNOWN_CONFIDENCE = 0.1
PARTIAL_CONFIDENCE = 0.4  # the most a partial match may claim: below the default ask threshold (0.5)


class RulesReasoner:
    """Diagnoses from a catalogue of failure signatures; costs no model calls."""

    name = "rules"

    def __init__(
        self,
        *,
        policy: RulesPolicy | None = None,
        witty: bool = False,
        catalogue: Sequence[Rule] = CATALOGUE,
    ) -> None:
        self._policy = policy or RulesPolicy()
        self._witty = witty
        self._catalogue = tuple(catalogue)

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """Run every rule; answer with the most confident whole match, else an honest `unknown`."""
        view = EvidenceView(evidence)
        context = RuleContext(view=view, incident=incident, policy=self._policy)
        rules = SERVICE_CATALOGUE if evidence.target.kind == SERVICE else self._catalogue
        findings = [f for rule in rules if (f := rule(context)) is not None]
        trace = [_record(self.name, f) for f in findings]
        whole = [f for f in findings if f.whole and f.category is not RootCause.UNKNOWN]
        best = max(whole, key=lambda f: f.confidence, default=None)  # max keeps the first of equals
        diagnosis = self._diagnosis(best, context) if best else self._unknown(context, findings)
        if self._witty:
            diagnosis = diagnosis.model_copy(
                update={"quip": quip_for(diagnosis.category, incident.fingerprint)}
            )
        return ReasonerResult(diagnosis=diagnosis, usage=Usage(), trace=trace, reasoner=self.name)

    @staticmethod
    def _diagnosis(finding: Finding, context: RuleContext) -> Diagnosis:
        return Diagnosis(
            category=finding.category,
            explanation=finding.explanation,
            faulty_resource=finding.faulty_resource,
            faulty_field=_field_in_target(finding, context),
            cited_evidence=[i for i in finding.cited if context.view.has(i)],
            confidence=round(max(0.0, min(1.0, finding.confidence)), 2),
            remediation=finding.remediation,
        )

    @staticmethod
    def _unknown(context: RuleContext, findings: list[Finding]) -> Diagnosis:
        view = context.view
        summary = summarise(view)
        partial = sorted((f for f in findings if not f.whole), key=lambda f: -f.confidence)
        fallback = [f for f in findings if f.whole]  # the generic crash loop: something, not what
        cited = [*summary.cited, *(i for f in (*partial, *fallback) for i in f.cited)]
        if not partial and not fallback and not view.failing_now() and not serving_errors(view):
            return Diagnosis(
                category=RootCause.UNKNOWN,
                explanation="The workload looks healthy: nothing in the evidence is failing now. "
                f"What was seen: {summary.text}.",
                faulty_resource=context.workload,
                cited_evidence=[i for i in dict.fromkeys(cited) if view.has(i)],
                confidence=UNKNOWN_CONFIDENCE,
                remediation=remedies.nothing("the workload is healthy; there is nothing to change"),
            )
        parts = [f"{f.category.value} in part ({'; '.join(f.missing)} not shown)" for f in partial]
        lead = (
            fallback[0].explanation if fallback else "No known failure signature matches the evidence whole."
        )
        explanation = lead + (f" It matches {', '.join(parts)}." if parts else "")
        confidence = max(
            [UNKNOWN_CONFIDENCE]
            + [min(f.confidence, PARTIAL_CONFIDENCE) for f in partial]
            + [min(f.confidence, PARTIAL_CONFIDENCE) for f in fallback]
        )
        # The field the most confident partial match blames on the target itself, when it names
        # one: the category is unknown, but where the evidence points is not.
        top = partial[0] if partial else None
        field = _field_in_target(top, context) if top and top.faulty_resource == context.workload else None
        return Diagnosis(
            category=RootCause.UNKNOWN,
            explanation=f"{explanation} What was seen: {summary.text}.",
            faulty_resource=context.workload,
            faulty_field=field,
            cited_evidence=[i for i in dict.fromkeys(cited) if view.has(i)],
            confidence=round(confidence, 2),
            remediation=remedies.notify(
                "no known failure signature matches the evidence whole: escalate to a human",
                seen=summary.text,
                partial=[f.category.value for f in partial],
            ),
        )


def _record(reasoner: str, finding: Finding) -> TraceRecord:
    whole = "" if finding.whole else f" (partial: {'; '.join(finding.missing)} not shown)"
    return TraceRecord(
        kind=TraceKind.RULE,
        reasoner=reasoner,
        summary=f"{finding.rule}: {finding.category.value} at {finding.confidence:.2f}{whole}",
        detail={
            "rule": finding.rule,
            "category": finding.category.value,
            "confidence": finding.confidence,
            "cited": list(finding.cited),
            "action": finding.remediation.action.value,
            "missing": list(finding.missing),
        },
    )


def _field_in_target(finding: Finding, context: RuleContext) -> str | None:
    """The finding's field as it reads in the target's manifest (a bare Pod has no pod template)."""
    if finding.faulty_field is None or finding.faulty_resource != context.workload:
        return finding.faulty_field
    return fields.for_kind(finding.faulty_field, context.view.target.kind)
