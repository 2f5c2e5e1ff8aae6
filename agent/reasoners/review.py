"""The auditor's LLM review: an independent model checks a diagnosis with the read-only tools.

Its verdict can only make a run more careful: the auditor turns a `contradicts` backed by cited
evidence into a policy denial (a human decides), and names a suspect commit only when the evidence
already holds it. A review that fails, or that the LLM breaker forbids, changes nothing but the
trace; failures are reported to the breaker like any other LLM failure.
"""

from __future__ import annotations

from typing import Literal, Protocol, Unpack, runtime_checkable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, ConfigDict, Field

from agent.domain import Diagnosis, Evidence, Incident, Usage
from agent.prompts import load_prompt
from agent.reasoners import untrusted
from agent.reasoners.base import ReasonerError, TraceKind, TraceRecord
from agent.reasoners.budget import BudgetSpent
from agent.reasoners.bundle import build_bundle
from agent.reasoners.chat_role import ChatOptions, ChatRole, Role
from agent.reasoners.conversation import Conversation
from agent.reasoners.gate import OPEN_GATE, LLMGate

Verdict = Literal["supports", "contradicts", "inconclusive"]


class ReviewAnswer(BaseModel):
    """The reviewer's structured verdict."""

    model_config = ConfigDict(extra="forbid", title="review")

    verdict: Verdict
    explanation: str = Field(min_length=1, description="Facts from the evidence and tool results.")
    cited_evidence: list[str] = Field(
        default_factory=list, description="Ids of evidence items or tool results."
    )
    suspect_commit: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{7,40}$")


class Review(BaseModel):
    """A review as the auditor reads it: the verdict (or why there is none), its cost and its trace."""

    verdict: Verdict | Literal["skipped", "failed"]
    explanation: str = ""
    cited_evidence: list[str] = Field(default_factory=list)
    suspect_commit: str | None = None
    usage: Usage = Field(default_factory=Usage)
    trace: list[TraceRecord] = Field(default_factory=list)

    @property
    def backed(self) -> bool:
        """Whether the verdict cites evidence (only citations that exist survive the check)."""
        return bool(self.cited_evidence)


@runtime_checkable
class Reviewer(Protocol):
    """Reviews a diagnosis against the evidence (the auditor's second opinion)."""

    def review(self, incident: Incident, evidence: Evidence, diagnosis: Diagnosis) -> Review:
        """The verdict; never raises (a failure is a `failed` review)."""
        ...


class LLMReviewer(ChatRole[ReviewAnswer]):
    """Reviews diagnoses with a chat model and the read-only tools, behind the LLM breaker."""

    name = "llm-review"

    def __init__(
        self,
        model: BaseChatModel,
        *,
        gate: LLMGate = OPEN_GATE,
        **options: Unpack[ChatOptions],
    ) -> None:
        prompts = load_prompt("auditor_system"), load_prompt("auditor_user"), load_prompt("auditor_final")
        super().__init__(model, Role(ReviewAnswer, ReviewAnswer.model_json_schema(), *prompts), options)
        self._gate = gate

    def review(self, incident: Incident, evidence: Evidence, diagnosis: Diagnosis) -> Review:
        """The verdict on `diagnosis`; never raises (a failure is a `failed` review, reported)."""
        if not self._gate.allowed():
            note = TraceRecord(
                kind=TraceKind.FALLBACK, reasoner=self.name, summary="the LLM breaker is open: no review"
            )
            return Review(verdict="skipped", explanation="the LLM breaker is open", trace=[note])
        conv = self._conversation()

        def opening(with_tools: bool) -> list[BaseMessage]:
            return self._opening(conv, incident, evidence, diagnosis, with_tools)

        try:
            found = self._investigate(conv, opening, evidence)
        except BudgetSpent as spent:
            conv.record(
                TraceKind.BUDGET, f"budget spent: {spent.reason}; no verdict", spent=conv.meter.snapshot()
            )
            self._gate.succeeded()
            spent_note = f"budget spent: {spent.reason}"
            return Review(verdict="inconclusive", explanation=spent_note, usage=conv.usage, trace=conv.trace)
        except ReasonerError as exc:
            self._gate.failed(exc)
            return Review(verdict="failed", explanation=str(exc), usage=exc.usage, trace=exc.trace)
        self._gate.succeeded()
        answer = found.answer
        kept = found.known_citations(conv, answer.cited_evidence, evidence)
        return Review(verdict=answer.verdict, explanation=answer.explanation, cited_evidence=kept,
                      suspect_commit=answer.suspect_commit, usage=conv.usage, trace=conv.trace)  # fmt: skip

    def _opening(
        self,
        conv: Conversation,
        incident: Incident,
        evidence: Evidence,
        diagnosis: Diagnosis,
        with_tools: bool,
    ) -> list[BaseMessage]:
        budget = conv.budget
        bundle = build_bundle(evidence, budget.bundle_tokens(with_tools), conv.boundary)
        offered = self._offered(with_tools)
        tool_note = (
            f"You may call the read-only tools ({', '.join(offered)}) up to {budget.max_tool_calls} times "
            "(each result has a result_id you may cite), then give your verdict."
            if offered
            else "Give your verdict as the structured answer."
        )
        proposal = diagnosis.model_dump(mode="json", exclude={"quip"})
        user = self._user.render(
            target=str(incident.target),
            boundary=conv.boundary,
            incident_block=untrusted.incident_line(incident, conv.boundary),
            diagnosis_block=untrusted.json_line(proposal, conv.boundary),
            evidence_block=bundle.text,
            tool_note=tool_note,
        )
        messages: list[BaseMessage] = [
            SystemMessage(self._system.render(boundary=conv.boundary)),
            HumanMessage(user),
        ]
        conv.record_prompt(
            "auditor review prompt" + ("" if with_tools else " (one-shot)"), messages, tools=offered
        )
        return messages
