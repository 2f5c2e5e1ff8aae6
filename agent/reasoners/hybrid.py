"""Rules first, the LLM when the rules are not sure enough to act, rules again when the LLM may not
be used (its breaker is open) or fails.

The breaker itself lives in the graph; this reasoner only asks `llm_allowed()` before each call and
reports outcomes through `on_llm_error` / `on_llm_success`, so the graph can count failures.
"""

from __future__ import annotations

from collections.abc import Callable

from agent.domain import Evidence, Incident
from agent.reasoners.base import Reasoner, ReasonerError, ReasonerResult, TraceKind, TraceRecord


def _always() -> bool:
    return True


class HybridReasoner:
    """Combines a rules reasoner and an LLM reasoner."""

    name = "hybrid"

    def __init__(
        self,
        rules: Reasoner,
        llm: Reasoner,
        act_threshold: float,
        *,
        llm_allowed: Callable[[], bool] = _always,
        on_llm_error: Callable[[ReasonerError], object] | None = None,
        on_llm_success: Callable[[], object] | None = None,
    ) -> None:
        if not 0.0 <= act_threshold <= 1.0:
            raise ValueError("act_threshold must be between 0 and 1")
        self._rules = rules
        self._llm = llm
        self._act = act_threshold
        self._llm_allowed = llm_allowed
        self._on_error = on_llm_error
        self._on_success = on_llm_success

    def _note(self, summary: str, **detail: object) -> TraceRecord:
        return TraceRecord(kind=TraceKind.FALLBACK, reasoner=self.name, summary=summary, detail=dict(detail))

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """The rules' answer when it clears the act threshold; otherwise the more confident of the rules'
        and the LLM's answers. LLM failures fall back to the rules and are reported, not raised."""
        ruled = self._rules.diagnose(incident, evidence)
        confidence = ruled.diagnosis.confidence
        if confidence >= self._act:
            note = self._note(f"rules at {confidence:.2f} clear the act threshold {self._act:.2f}")
            return self._result(ruled, ruled, [note])
        if not self._llm_allowed():
            return self._result(ruled, ruled, [self._note("LLM not allowed (breaker open): rules answer")])
        try:
            asked = self._llm.diagnose(incident, evidence)
        except ReasonerError as exc:
            if self._on_error is not None:
                self._on_error(exc)
            note = self._note(f"LLM failed ({exc.kind.value}): rules answer", error=str(exc))
            return ReasonerResult(
                diagnosis=ruled.diagnosis,
                usage=ruled.usage + exc.usage,
                trace=[*ruled.trace, *exc.trace, note],
                reasoner=self.name,
            )
        if self._on_success is not None:
            self._on_success()
        chosen = asked if asked.diagnosis.confidence >= confidence else ruled
        note = self._note(
            f"rules at {confidence:.2f}, LLM at {asked.diagnosis.confidence:.2f}: {chosen.reasoner} answer",
            chosen=chosen.reasoner,
        )
        return ReasonerResult(
            diagnosis=chosen.diagnosis,
            usage=ruled.usage + asked.usage,
            trace=[*ruled.trace, *asked.trace, note],
            reasoner=self.name,
        )

    def _result(
        self, ruled: ReasonerResult, chosen: ReasonerResult, notes: list[TraceRecord]
    ) -> ReasonerResult:
        return ReasonerResult(
            diagnosis=chosen.diagnosis, usage=ruled.usage, trace=[*ruled.trace, *notes], reasoner=self.name
        )
