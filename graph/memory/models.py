"""The records incident memory deals in, and the protocol a memory store offers the graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from agent.domain import WorkloadRef


class MemoryOutcome(StrEnum):
    """How a remembered incident ended, as far as the fix is concerned."""

    HEALED = "healed"  # the fix was applied and verification saw the workload recover
    FAILED = "failed"  # a fix was applied and the workload stayed unhealthy
    ROLLED_BACK = "rolled_back"  # a fix failed and Paramedic took it back
    ESCALATED = "escalated"  # handed to humans before any fix (confidence, policy, breaker)
    REJECTED = "rejected"  # a human rejected the proposed fix
    REPORTED = "reported"  # diagnosed and posted; nothing changed

    @property
    def fix_worked(self) -> bool | None:
        """True or False when the outcome says whether the proposed fix was good; None when it does not."""
        if self is MemoryOutcome.HEALED:
            return True
        if self in (MemoryOutcome.FAILED, MemoryOutcome.ROLLED_BACK, MemoryOutcome.REJECTED):
            return False
        return None


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list | tuple) else ()


@dataclass(frozen=True)
class IncidentSignature:
    """An incident normalised so that the same failure on another day (other pod names, other
    numbers) looks the same: the parts similarity is computed on."""

    workload_kind: str
    reasons: tuple[str, ...] = ()  # incident reason, event and container reasons, lower case
    log_fingerprints: tuple[str, ...] = ()  # error lines with numbers, ids and hashes masked
    category: str | None = None  # the diagnosis's RootCause value, once known
    changed_fields: tuple[str, ...] = ()  # dotted paths the fix changed, container names masked
    fix_kind: str | None = None  # see graph.memory.signature.fix_kind_of

    def tokens(self) -> set[str]:
        """The signature as a set of typed tokens: what signature overlap (Jaccard) compares."""
        found = {f"kind:{self.workload_kind.lower()}"}
        found.update(f"reason:{r}" for r in self.reasons)
        found.update(f"log:{line}" for line in self.log_fingerprints)
        found.update(f"field:{f}" for f in self.changed_fields)
        if self.category:
            found.add(f"category:{self.category}")
        if self.fix_kind:
            found.add(f"fix:{self.fix_kind}")
        return found

    def document(self) -> str:
        """The signature as text for full-text search (SQLite FTS5, PostgreSQL tsvector)."""
        parts = [self.workload_kind, *self.reasons, *self.log_fingerprints, *self.changed_fields]
        if self.category:
            parts.append(self.category)
        if self.fix_kind:
            parts.append(self.fix_kind)
        return " ".join(parts)

    def to_data(self) -> dict[str, Any]:
        """As JSON."""
        return {
            "workload_kind": self.workload_kind,
            "reasons": list(self.reasons),
            "log_fingerprints": list(self.log_fingerprints),
            "category": self.category,
            "changed_fields": list(self.changed_fields),
            "fix_kind": self.fix_kind,
        }

    @classmethod
    def from_data(cls, data: Any) -> IncidentSignature:
        """From JSON (`to_data`); missing or mistyped parts read as empty."""
        data = data if isinstance(data, dict) else {}
        category, fix_kind = data.get("category"), data.get("fix_kind")
        return cls(
            workload_kind=str(data.get("workload_kind") or "Deployment"),
            reasons=_strings(data.get("reasons")),
            log_fingerprints=_strings(data.get("log_fingerprints")),
            category=str(category) if category else None,
            changed_fields=_strings(data.get("changed_fields")),
            fix_kind=str(fix_kind) if fix_kind else None,
        )


@dataclass(frozen=True)
class SimilarIncident:
    """A past incident that looks like this one, and how it ended."""

    run_id: str
    target: str  # WorkloadRef as text
    recorded_at: str  # ISO 8601
    score: float  # 0..1: full-text rank and signature overlap combined
    outcome: MemoryOutcome
    category: str | None = None
    fix_kind: str | None = None
    summary: str = ""  # e.g. "healed by changing the memory limit"

    def to_data(self) -> dict[str, Any]:
        """As JSON (trace payloads, evidence data, the API)."""
        return {
            "run_id": self.run_id,
            "target": self.target,
            "recorded_at": self.recorded_at,
            "score": round(self.score, 3),
            "outcome": self.outcome.value,
            "category": self.category,
            "fix_kind": self.fix_kind,
            "summary": self.summary,
        }


@dataclass(frozen=True)
class TrackRecord:
    """How often a kind of fix worked: outcomes that say so (see `MemoryOutcome.fix_worked`)."""

    successes: int = 0
    failures: int = 0  # failed, rolled back or rejected by a human
    rejections: int = 0  # of the failures, how many were a human's rejection
    recent_failures: int = 0  # failures since the last success (newest first, until a success)

    @property
    def total(self) -> int:
        """Outcomes counted."""
        return self.successes + self.failures


@dataclass(frozen=True)
class FixHistory:
    """A fix kind's record for a root cause everywhere, and on one workload."""

    category: str
    fix_kind: str
    overall: TrackRecord = field(default_factory=TrackRecord)
    here: TrackRecord = field(default_factory=TrackRecord)


class IncidentMemory(Protocol):
    """What the healing graph asks of incident memory (the server's run store answers)."""

    def similar(
        self, signature: IncidentSignature, *, exclude_run: str | None = None, limit: int = 3
    ) -> list[SimilarIncident]:
        """The past incidents most like `signature`, best first, each scored 0..1."""
        ...

    def fix_history(self, category: str, fix_kind: str, target: WorkloadRef) -> FixHistory:
        """How often `fix_kind` worked for `category`, overall and on `target`."""
        ...
