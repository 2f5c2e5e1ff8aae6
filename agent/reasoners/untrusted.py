"""Untrusted text (logs, events, alert annotations, tool output) on its way into a prompt.

Each run gets a fresh random boundary; the prompt templates wrap untrusted blocks in
`<<<BEGIN UNTRUSTED <LABEL> <boundary>>>>` / `<<<END UNTRUSTED <LABEL> <boundary>>>>` lines. The data is
serialised as JSON (one object per line), so it has no raw newlines and cannot forge a fence line, and
any occurrence of the boundary itself is scrubbed, so nothing can close the fence early.

Everything fenced is redacted on its way into a prompt (`tools.boundary`): a prompt leaves the cluster
for the model's provider. Evidence and tool results were redacted where the tools answered, alerts
where they came in; this is the last check before the text goes out, and it finds nothing new
unless something upstream forgot (a manual trigger's free text, a new tool that bypassed `call_tool`).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from agent.domain import Evidence, Incident
from tools.boundary import redact_value

_SCRUBBED = "[boundary removed]"


def new_boundary() -> str:
    """A fresh, unguessable boundary token for one reasoning run."""
    return secrets.token_hex(12)


def scrub(text: str, boundary: str) -> str:
    """`text` with every occurrence of the boundary removed."""
    return text.replace(boundary, _SCRUBBED)


def _line(obj: Any, boundary: str) -> str:
    return scrub(json.dumps(redact_value(obj), ensure_ascii=False, default=str, sort_keys=True), boundary)


def evidence_lines(evidence: Evidence, boundary: str) -> str:
    """The evidence items as JSON lines, plus the live manifest as one more line."""
    lines = [
        _line(
            {"id": i.id, "kind": i.kind.value, "source": i.source, "text": i.text, "data": i.data}, boundary
        )
        for i in evidence.items
    ]
    if evidence.manifest is not None:
        lines.append(
            _line({"id": "manifest:live", "kind": "manifest", "manifest": evidence.manifest}, boundary)
        )
    return "\n".join(lines) if lines else "(no evidence)"


def incident_line(incident: Incident, boundary: str) -> str:
    """The incident's reported reason, summary and labels (alert text is untrusted) as one JSON line."""
    return _line(
        {"trigger": incident.trigger.value, "reason": incident.reason, "summary": incident.summary,
         "labels": incident.labels, "started_at": incident.started_at.isoformat()},
        boundary,
    )  # fmt: skip


def fence(label: str, text: str, boundary: str) -> str:
    """A self-contained fenced block, for untrusted text outside the templates (e.g. tool results)."""
    body = _line(text, boundary)
    return f"<<<BEGIN UNTRUSTED {label} {boundary}>>>\n{body}\n<<<END UNTRUSTED {label} {boundary}>>>"
