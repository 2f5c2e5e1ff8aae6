"""What one investigation tool call gave back: redacted JSON for the model, and facts for the trace."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tools.result import ToolStatus

TRUNCATION_NOTE = " …[truncated {n} chars]"


def compact_json(value: Any) -> str:
    """`value` as compact JSON (the form the model reads; non-JSON values as their string).

    Keys keep the order the tool built them in, most telling first (a describe's status and pods,
    then its events): a result over the cap loses its tail, so sorting keys alphabetically would let
    `events` push the pods' states out."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def cap_text(text: str, max_chars: int) -> tuple[str, bool]:
    """`text` cut to about `max_chars` with a note saying how much went, and whether it was cut."""
    if len(text) <= max_chars:
        return text, False
    kept = max(0, max_chars - len(TRUNCATION_NOTE) - 8)
    return text[:kept] + TRUNCATION_NOTE.format(n=len(text) - kept), True


@dataclass(frozen=True)
class ToolOutcome:
    """One call: its status, the redacted content (an `{"error": ...}` object when it failed) and
    how long it took. `text` is what goes back to the model."""

    tool: str
    arguments: dict[str, Any]
    status: ToolStatus
    content: Any
    summary: str
    duration_ms: float = 0.0
    text: str = field(default="")
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """True when the tool answered (an empty answer is still an answer)."""
        return self.status is ToolStatus.OK

    @classmethod
    def failed(
        cls, tool: str, arguments: dict[str, Any], status: ToolStatus, message: str, duration_ms: float = 0.0
    ) -> ToolOutcome:
        """A failed call: the model reads `{"error": message}` and may try again."""
        content = {"error": message}
        return cls(tool, arguments, status, content, f"{status.value}: {message[:200]}", duration_ms,
                   compact_json(content))  # fmt: skip
