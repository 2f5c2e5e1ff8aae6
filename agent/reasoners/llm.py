"""The LLM reasoner: a chat model reads a compact, fenced opening, investigates with the read-only tools
in a bounded loop, and answers in the closed `DiagnosisAnswer` schema (validated, one repair retry).

What the model says is checked, not trusted: the schema admits only `RootCause` and `ActionType`
values, citations must name gathered evidence or a tool result it fetched (others are dropped), and
the final policy is enforced later by the graph. A spent budget (turns, tool calls, tokens, wall
time) ends the diagnosis as `unknown` at confidence 0, so the run escalates with the partial trace.
"""

from __future__ import annotations

from typing import Any, Unpack

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from agent.domain import ActionType, Diagnosis, Evidence, Incident, RootCause, remediation_from
from agent.prompts import load_prompt
from agent.reasoners import untrusted
from agent.reasoners.answer import DiagnosisAnswer, answer_json_schema
from agent.reasoners.base import ReasonerResult, TraceKind
from agent.reasoners.budget import BudgetSpent
from agent.reasoners.bundle import build_bundle
from agent.reasoners.chat_role import ChatOptions, ChatRole, Role
from agent.reasoners.conversation import Conversation
from agent.reasoners.investigator import Finding


class LLMReasoner(ChatRole[DiagnosisAnswer]):
    """Diagnoses with a chat model that may fetch more evidence through read-only tools."""

    def __init__(
        self,
        model: BaseChatModel,
        *,
        witty: bool = False,
        name: str = "llm",
        **options: Unpack[ChatOptions],
    ) -> None:
        self.name = name
        prompts = load_prompt("analyst_system"), load_prompt("analyst_user"), load_prompt("analyst_final")
        super().__init__(model, Role(DiagnosisAnswer, answer_json_schema(), *prompts), options)
        self._witty = witty

    def diagnose(self, incident: Incident, evidence: Evidence) -> ReasonerResult:
        """Investigate and answer; raise ReasonerError on timeouts, provider failures or output still
        invalid after one repair. A spent budget is an `unknown` diagnosis, not an error."""
        conv = self._conversation()

        def opening(with_tools: bool) -> list[BaseMessage]:
            return self._opening(conv, incident, evidence, with_tools)

        try:
            found = self._investigate(conv, opening, evidence)
        except BudgetSpent as spent:
            return self._spent(conv, incident, spent.reason)
        diagnosis = self._checked(conv, found, evidence)
        return ReasonerResult(diagnosis=diagnosis, usage=conv.usage, trace=conv.trace, reasoner=self.name)

    def _opening(
        self, conv: Conversation, incident: Incident, evidence: Evidence, with_tools: bool
    ) -> list[BaseMessage]:
        budget = conv.budget
        bundle = build_bundle(evidence, budget.bundle_tokens(with_tools), conv.boundary)
        offered = self._offered(with_tools)
        tool_note = (
            f"You may call the read-only tools ({', '.join(offered)}) up to {budget.max_tool_calls} times in "
            "total to look further (each result has a result_id, e.g. tool:1, that you may cite); call only "
            "for facts you need, then answer."
            if with_tools
            else "Answer with the structured diagnosis."
        )
        system = self._system.render(
            categories=", ".join(c.value for c in RootCause),
            actions=", ".join(a.value for a in ActionType),
            witty=self._witty,
            boundary=conv.boundary,
        )
        user = self._user.render(
            target=str(incident.target),
            boundary=conv.boundary,
            incident_block=untrusted.incident_line(incident, conv.boundary),
            evidence_block=bundle.text,
            gaps="; ".join(evidence.gaps),
            tool_note=tool_note,
        )
        messages: list[BaseMessage] = [SystemMessage(system), HumanMessage(user)]
        conv.record_prompt(
            "analyst prompt" + (" (one-shot)" if not with_tools else ""),
            messages,
            bundle={
                "tokens": bundle.tokens,
                "budget": budget.bundle_tokens(with_tools),
                "shown": len(bundle.shown),
                "omitted": list(bundle.omitted),
            },
            tools=offered,
        )
        return messages

    def _spent(self, conv: Conversation, incident: Incident, reason: str) -> ReasonerResult:
        conv.record(TraceKind.BUDGET, f"budget spent: {reason}; the diagnosis is unknown", reason=reason,
                    spent=conv.meter.snapshot())  # fmt: skip
        target = incident.target
        diagnosis = Diagnosis(
            category=RootCause.UNKNOWN,
            explanation=f"The investigation stopped before a diagnosis ({reason}); see the trace for what "
            "the model looked at.",
            faulty_resource=f"{target.kind} {target.namespace}/{target.name}",
            confidence=0.0,
            remediation=remediation_from(ActionType.NOTIFY, {}, None, "investigation budget spent: escalate"),
        )
        return ReasonerResult(diagnosis=diagnosis, usage=conv.usage, trace=conv.trace, reasoner=self.name)

    def _checked(self, conv: Conversation, found: Finding[DiagnosisAnswer], evidence: Evidence) -> Diagnosis:
        diagnosis = found.answer.to_diagnosis()
        update: dict[str, Any] = {
            "cited_evidence": found.known_citations(conv, diagnosis.cited_evidence, evidence)
        }
        if not self._witty and diagnosis.quip:
            update["quip"] = None
        return diagnosis.model_copy(update=update)
