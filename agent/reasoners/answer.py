"""The schema a model must answer in: a diagnosis in the closed taxonomy with an allow-listed action.

Stricter than `Diagnosis` on purpose (unknown fields are refused) so sloppy output is repaired or
rejected rather than half-read; `to_diagnosis` turns a valid answer into the domain model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from agent.domain import ActionType, Diagnosis, ProposedRemediation, RootCause


class RemediationAnswer(BaseModel):
    """The proposed remediation: one allow-listed action."""

    model_config = ConfigDict(extra="forbid")

    action: ActionType
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="e.g. {'to_revision': 3}, {'replicas': 2}, {'sha': '…'}"
    )
    patch: dict[str, Any] | None = Field(
        default=None, description="Strategic-merge patch of the Deployment; containers addressed by name."
    )
    rationale: str = ""


class DiagnosisAnswer(BaseModel):
    """The analyst's structured answer."""

    model_config = ConfigDict(extra="forbid", title="diagnosis")

    category: RootCause
    explanation: str = Field(min_length=1, description="Facts from the evidence that lead to the cause.")
    faulty_resource: str = Field(min_length=1, description="e.g. 'Deployment shop/web-api'")
    faulty_field: str | None = Field(
        default=None, description="e.g. 'spec.template.spec.containers[app].resources.limits.memory'"
    )
    cited_evidence: list[str] = Field(default_factory=list, description="Ids of supporting evidence items.")
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
            remediation=ProposedRemediation(**self.remediation.model_dump()),
            quip=self.quip or None,
        )


def answer_json_schema() -> dict[str, Any]:
    """The JSON schema sent to the model (as response_format, a forced tool, or Ollama's format)."""
    schema = DiagnosisAnswer.model_json_schema()
    schema["description"] = "Diagnosis of the unhealthy workload, with one allow-listed remediation."
    return schema
