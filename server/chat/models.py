"""What a chat question and its answer look like on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

CitationKind = Literal["run", "incident", "event", "audit", "evidence"]


class ChatRequest(BaseModel):
    """A question, optionally about one run or one incident."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=4000)
    run_id: str | None = Field(default=None, min_length=1, max_length=200)
    incident_id: str | None = Field(default=None, min_length=1, max_length=200)


class Citation(BaseModel):
    """A stored record the answer rests on: a run, an incident, a trace event, an audit entry."""

    model_config = ConfigDict(frozen=True)

    kind: CitationKind
    id: str
    run_id: str | None = None
    label: str = ""


class Answer(BaseModel):
    """The full answer: the text streamed as tokens, then its citations."""

    text: str
    citations: list[Citation] = Field(default_factory=list)
    provider: str = "rules"
    known: bool = Field(default=True, description="False when the store held no answer.")

    def cite(self, citation: Citation) -> None:
        """Add a citation once."""
        if citation not in self.citations:
            self.citations.append(citation)
