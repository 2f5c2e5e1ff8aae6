"""What the LLM did per incident: prompt size, tool calls, and which side of the hybrid was right.

Pure, like the scorer. An incident counts only when a model was asked about it (a rules answer
costs nothing). Its prompt tokens are the largest single prompt its investigation sent (the
context window it needed: the provider's count, or an estimate where it gave none); its tool calls
are every read the model asked for (the analyst's and the auditor's review). For each hybrid
arbitration the rules' and the model's categories are both judged against the ground truth of
the faults behind that workload (a control scenario's truth is `unknown`: nothing is wrong).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from agent.domain import RootCause
from evals.outcome import FaultRecord, Investigation


class ArbitrationScore(BaseModel):
    """One hybrid choice and whether each side had the true category."""

    model_config = ConfigDict(extra="forbid")

    chosen: str
    rules_right: bool
    llm_right: bool

    @property
    def chosen_right(self) -> bool:
        """Whether the side taken was right."""
        return self.rules_right if self.chosen == "rules" else self.llm_right


class LLMFigures(BaseModel):
    """One scenario's per-incident LLM figures."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: list[int] = Field(default_factory=list, description="Largest prompt per incident.")
    tool_calls: list[int] = Field(default_factory=list, description="Tool calls per incident.")
    arbitrations: list[ArbitrationScore] = Field(default_factory=list)


def llm_figures(
    investigations: Sequence[Investigation],
    faults: Sequence[FaultRecord],
    normalise: Callable[[str], str],
) -> LLMFigures:
    """The figures of the incidents a model was asked about."""
    figures = LLMFigures()
    for inv in investigations:
        if inv.usage.model_calls:
            figures.prompt_tokens.append(inv.usage.max_prompt_tokens)
            figures.tool_calls.append(inv.usage.tool_calls)
        workload = normalise(inv.incident.workload)
        truth = {f.category for f in faults if normalise(f.symptom_workload) == workload}
        truth = truth or ({f.category for f in faults} if faults else {RootCause.UNKNOWN})
        for a in inv.arbitrations:
            figures.arbitrations.append(
                ArbitrationScore(chosen=a.chosen, rules_right=a.rules in truth, llm_right=a.llm in truth)
            )
    return figures


class ArbitrationTally(BaseModel):
    """How often each side of the hybrid was taken and was right."""

    model_config = ConfigDict(extra="forbid")

    decisions: int = 0
    chose_rules: int = 0
    chose_llm: int = 0
    rules_right: int = 0
    llm_right: int = 0
    chosen_right: int = 0

    @classmethod
    def of(cls, scores: Sequence[ArbitrationScore]) -> ArbitrationTally:
        """The tally of `scores`."""
        return cls(
            decisions=len(scores),
            chose_rules=sum(s.chosen == "rules" for s in scores),
            chose_llm=sum(s.chosen == "llm" for s in scores),
            rules_right=sum(s.rules_right for s in scores),
            llm_right=sum(s.llm_right for s in scores),
            chosen_right=sum(s.chosen_right for s in scores),
        )
