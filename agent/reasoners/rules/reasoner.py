"""The offline, deterministic default reasoner: the rules catalogue over the evidence.

Every rule of the catalogue looks at the evidence; the most confident finding wins (ties go to the
rule listed first). Nothing is known but what a real cluster shows: the rules never see sandbox
ground truth, and no text in the evidence can steer them beyond matching a signature.
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.domain import Diagnosis, Evidence, Incident, RootCause, Usage
from agent.reasoners.base import ReasonerResult, TraceKind, TraceRecord
from agent.reasoners.rules import remedies
from agent.reasoners.rules.catalogue import CATALOGUE
from agent.reasoners.rules.context import Finding, Rule, RuleContext, RulesPolicy
from agent.reasoners.rules.evidence_view import EvidenceView
from agent.reasoners.rules.quips import quip_for

UNKNOWN_CONFIDENCE = 0.1


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
        """Run every rule; answer with the most confident finding, or `unknown` when none matched."""
        view = EvidenceView(evidence)
        context = RuleContext(view=view, incident=incident, policy=self._policy)
        findings = [f for rule in self._catalogue if (f := rule(context)) is not None]
        trace = [
            TraceRecord(
                kind=TraceKind.RULE,
                reasoner=self.name,
                summary=f"{f.rule}: {f.category.value} at {f.confidence:.2f}",
                detail={
                    "rule": f.rule,
                    "category": f.category.value,
                    "confidence": f.confidence,
                    "cited": list(f.cited),
                    "action": f.remediation.action.value,
                },
            )
            for f in findings
        ]
        best = max(findings, key=lambda f: f.confidence, default=None)  # max keeps the first of equals
        diagnosis = self._diagnosis(best, context) if best else self._unknown(context)
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
            faulty_field=finding.faulty_field,
            cited_evidence=[i for i in finding.cited if context.view.has(i)],
            confidence=round(max(0.0, min(1.0, finding.confidence)), 2),
            remediation=finding.remediation,
        )

    @staticmethod
    def _unknown(context: RuleContext) -> Diagnosis:
        return Diagnosis(
            category=RootCause.UNKNOWN,
            explanation="No known failure signature matches the evidence.",
            faulty_resource=context.workload,
            confidence=UNKNOWN_CONFIDENCE,
            remediation=remedies.notify("no known failure signature: escalate to a human"),
        )
