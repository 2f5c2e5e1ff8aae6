"""The schema a model must answer in: a diagnosis in the closed taxonomy with an allow-listed action.

Stricter than `Diagnosis` on purpose (unknown fields are refused) so sloppy output is repaired or
rejected rather than half-read; `to_diagnosis` turns a valid answer into the domain model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agent.domain import ActionType, Diagnosis, ProposedRemediation, RootCause, remediation_from


class RemediationAnswer(BaseModel):
    """The proposed remediation: one allow-listed action, flat for the model, typed once validated."""

    model_config = ConfigDict(extra="forbid")

    action: ActionType
    parameters: dict[str, Any] = Field(
        default_factory=dict,
        description="scale: {'replicas': 2}; rollback: {'revision': 3} (omit for the previous one); "
        "revert_commit: {'commit': '<sha>'}; anything else is kept as a note for humans",
    )
    patch: dict[str, Any] | None = Field(
        default=None,
        description="Strategic-merge patch of the Deployment, containers addressed by name: required "
        "for gitops_pr and patch, optional for rollback, absent otherwise.",
    )
    rationale: str = ""

    @model_validator(mode="after")
    def _is_a_proposal(self) -> RemediationAnswer:
        self.to_remediation()  # a malformed proposal fails validation, so the model is asked to repair
        return self

    def to_remediation(self) -> ProposedRemediation:
        """The typed proposal (`agent.domain.ProposedRemediation`)."""
        return remediation_from(self.action, self.parameters, self.patch, self.rationale)


class DiagnosisAnswer(BaseModel):
    """The analyst's structured answer."""

    model_config = ConfigDict(extra="forbid", title="diagnosis")

    category: RootCause
    explanation: str = Field(min_length=1, description="Facts from the evidence that lead to the cause.")
    faulty_resource: str = Field(min_length=1, description="e.g. 'Deployment shop/web-api'")
    faulty_field: str | None = Field(
        default=None, description="e.g. 'spec.template.spec.containers[app].resources.limits.memory'"
    )
    cited_evidence: list[str] = Field(
        default_factory=list, description="Ids of supporting evidence items or tool results (tool:N)."
    )
    confidence: float = Field(ge=0.0, le=1.0)
    remediation: RemediationAnswer
    quip: str | None = None

    def to_diagnosis(self) -> Diagnosis:
        """The domain diagnosis."""
        return Diagnosis(
            category=self.category,
            explanation=self.explanation,
            faulty_resource=self.faulty_resource,
            faulty_field=self.faulty_field,
            cited_evidence=self.cited_evidence,
            confidence=self.confidence,
            remediation=self.remediation.to_remediation(),
            quip=self.quip or None,
        )


def answer_json_schema() -> dict[str, Any]:
    """The JSON schema sent to the model (as response_format, a forced tool, or Ollama's format)."""
    schema = DiagnosisAnswer.model_json_schema()
    schema["description"] = "Diagnosis of the unhealthy workload, with one allow-listed remediation."
    return schema
