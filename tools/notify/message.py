"""What a notification says, independent of where it is posted."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum


class Severity(StrEnum):
    """How loud a notification is; each webhook kind renders it with its own colour or emoji."""

    INFO = "info"
    SUCCESS = "success"  # e.g. a remediation verified healthy
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Notification:
    """A diagnosis, escalation or outcome to post: title, severity, summary and optional fields."""

    title: str
    severity: Severity
    summary: str
    namespace: str | None = None
    workload: str | None = None
    root_cause: str | None = None
    confidence: float | None = None  # 0..1
    action: str | None = None
    pr_url: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("a notification needs a non-empty title")
        try:
            object.__setattr__(self, "severity", Severity(self.severity))
        except ValueError:
            known = ", ".join(s.value for s in Severity)
            raise ValueError(f"severity {self.severity!r} is not one of {known}") from None
        if self.confidence is not None and not (
            math.isfinite(self.confidence) and 0.0 <= self.confidence <= 1.0
        ):
            raise ValueError(f"confidence must be between 0 and 1, got {self.confidence}")
        if self.pr_url is not None and not self.pr_url.startswith(("http://", "https://")):
            raise ValueError(f"pr_url must be an http(s) URL, got {self.pr_url!r}")
        if self.created_at.tzinfo is None:
            raise ValueError("created_at must be timezone-aware")

    def fields(self) -> tuple[tuple[str, str], ...]:
        """The set fields as (label, display text), in a fixed order; unset or blank ones are left out."""
        confidence = None if self.confidence is None else f"{self.confidence:.0%}"
        pairs = (
            ("Namespace", self.namespace),
            ("Workload", self.workload),
            ("Root cause", self.root_cause),
            ("Confidence", confidence),
            ("Action", self.action),
            ("Pull request", self.pr_url),
        )
        return tuple((label, value) for label, value in pairs if value is not None and value.strip())
