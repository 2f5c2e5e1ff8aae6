"""Rules first; the LLM when the rules are not sure enough to act; a reasoned choice between them.

Arbitration (the reason is written in the trace, and `decided_by` says whose diagnosis it is):
- rules at or above the act threshold: the rules' diagnosis, the LLM is not asked;
- the LLM breaker open, or the LLM failing: the rules' diagnosis (rules-only, never silenced);
- a rule fired (a known category): it stands, unless the model reaches another cause AND cites
  results of tools it called (evidence it fetched) for it;
- the rules say `unknown`: the model's diagnosis when it cites evidence it fetched, else unknown
  stands (and escalates) — a model's guess from the opening alone is not enough to act on;
- the model says `unknown` (or its budget ran out): the rules' diagnosis.
"""

from __future__ import annotations

from agent.domain import Diagnosis, Evidence, Incident, RootCause
from agent.reasoners.base import Reasoner, ReasonerError, ReasonerResult, TraceKind, TraceRecord
from agent.reasoners.gate import OPEN_GATE, LLMGate

RULES, LLM = "rules", "llm"
TOOL_RESULT_PREFIX = "tool:"


def fetched_citations(diagnosis: Diagnosis) -> list[str]:
    """The tool results a diagnosis cites (the LLM reasoner keeps only those it really fetched)."""
    return [c for c in diagnosis.cited_evidence if c.startswith(TOOL_RESULT_PREFIX)]


def arbitrate(rules: Diagnosis, model: Diagnosis) -> tuple[str, str]:
    """Whose diagnosis is taken (`rules` or `llm`) and why."""
    backed = fetched_citations(model)
    said = f"the model says {model.category.value}"
    if model.category is RootCause.UNKNOWN:
        return RULES, f"{said}: the rules' {rules.category.value} stands"
    if rules.category is RootCause.UNKNOWN:
        if backed:
            return LLM, f"no rule fired; {said}, backed by evidence it fetched ({', '.join(backed)})"
        return RULES, f"no rule fired; {said} but cites no evidence it fetched: unknown stands"
    if model.category is rules.category:
        return RULES, f"a rule found {rules.category.value} and {said} too: the rule's diagnosis stands"
    if backed:
        return LLM, (f"a rule found {rules.category.value}; {said} and cites evidence it fetched that "
                     f"contradicts it ({', '.join(backed)})")  # fmt: skip
    return RULES, f"a rule found {rules.category.value}; {said} without evidence it fetched: the rule stands"


class HybridReasoner:
    """Combines a rules reasoner and an LLM reasoner."""

    name = "hybrid"

    def __init__(
        self, rules: Reasoner, llm: Reasoner, act_threshold: float, *, gate: LLMGate = OPEN_GATE
    ) -> None:
        if not 0.0 <= act_threshold <= 1.0:
            raise ValueError("act_threshold must be between 0 and 1")
        self._rules = rules
        self._llm = llm
        self._act = act_threshold
        self._gate = gate

    def _note(self, summary: str, chosen: str, **detail: object) -> TraceRecord:
        return TraceRecord(
            kind=TraceKind.FALLBACK, reasoner=self.name, summary=summary, detail={"chosen": chosen, **detail}
        )

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """See the module docstring. LLM failures fall back to the rules and are reported, not raised."""
        ruled = self._rules.diagnose(incident, evidence)
        confidence = ruled.diagnosis.confidence
        if confidence >= self._act:
            note = self._note(f"rules at {confidence:.2f} clear the act threshold {self._act:.2f}", RULES)
            return self._result(ruled.diagnosis, RULES, ruled, None, [note])
        if not self._gate.allowed():
            note = self._note("the LLM breaker is open: rules only", RULES, breaker="open")
            return self._result(ruled.diagnosis, RULES, ruled, None, [note])
        try:
            asked = self._llm.diagnose(incident, evidence)
        except ReasonerError as exc:
            self._gate.failed(exc)
            note = self._note(f"LLM failed ({exc.kind.value}): rules answer", RULES, error=str(exc))
            failed = ReasonerResult(diagnosis=ruled.diagnosis, usage=exc.usage, trace=exc.trace, reasoner=LLM)
            return self._result(ruled.diagnosis, RULES, ruled, failed, [note])
        self._gate.succeeded()
        chosen, reason = arbitrate(ruled.diagnosis, asked.diagnosis)
        note = self._note(
            f"{chosen} diagnosis: {reason}", chosen, rules=ruled.diagnosis.category.value,
            llm=asked.diagnosis.category.value, cited_fetched=fetched_citations(asked.diagnosis),
        )  # fmt: skip
        diagnosis = asked.diagnosis if chosen == LLM else ruled.diagnosis
        return self._result(diagnosis, chosen, ruled, asked, [note])

    def _result(
        self,
        diagnosis: Diagnosis,
        chosen: str,
        ruled: ReasonerResult,
        asked: ReasonerResult | None,
        notes: list[TraceRecord],
    ) -> ReasonerResult:
        usage = ruled.usage + asked.usage if asked is not None else ruled.usage
        trace = [*ruled.trace, *(asked.trace if asked is not None else []), *notes]
        return ReasonerResult(
            diagnosis=diagnosis, usage=usage, trace=trace, reasoner=self.name, decided_by=chosen
        )
