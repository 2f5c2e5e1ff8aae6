"""Pull request bodies: root cause, evidence and YAML diff, plus the hidden fingerprint marker.

The marker lets Paramedic find its own open pull request for an incident (no duplicates)
without any state outside the repository host. A body is published on the repository host, so it
is redacted once more on the way out (`tools.boundary`), whatever it was built from.
"""

from __future__ import annotations

import re

from tools.boundary import redact_text
from tools.gitops.records import PullRequestSpec

_MARKER = "<!-- paramedic-fingerprint: {} -->"
_MARKER_RE = re.compile(r"<!--\s*paramedic-fingerprint:\s*(\S+)\s*-->")
FINGERPRINT_LABEL_PREFIX = "paramedic-fp:"


def fingerprint_marker(fingerprint: str) -> str:
    """The hidden HTML comment that tags a body with an incident fingerprint."""
    return _MARKER.format(fingerprint)


def fingerprint_of(body: str | None, labels: tuple[str, ...] = ()) -> str | None:
    """The fingerprint a pull request carries, from its body marker or its label."""
    match = _MARKER_RE.search(body or "")
    if match:
        return match.group(1)
    for label in labels:
        if label.startswith(FINGERPRINT_LABEL_PREFIX):
            return label[len(FINGERPRINT_LABEL_PREFIX) :]
    return None


def render_body(spec: PullRequestSpec) -> str:
    """Markdown body: root cause, evidence list, the YAML diff, then the hidden marker."""
    parts = ["## Root cause", "", spec.root_cause.strip() or "_not determined_", ""]
    if spec.evidence:
        parts += ["## Evidence", ""]
        parts += [f"- {line.strip()}" for line in spec.evidence]
        parts.append("")
    if spec.diff.strip():
        # A fence longer than any backtick run inside the diff keeps it from closing early.
        longest = max((len(m) for m in re.findall(r"`+", spec.diff)), default=0)
        fence = "`" * max(3, longest + 1)
        parts += ["## Change", "", f"{fence}diff", spec.diff.rstrip("\n"), fence, ""]
    if spec.extra.strip():
        parts += [spec.extra.strip(), ""]
    body = redact_text("\n".join(parts))
    return "\n".join([body, "_Opened by Paramedic._", "", fingerprint_marker(spec.fingerprint)]) + "\n"


def pr_labels(spec: PullRequestSpec) -> tuple[str, ...]:
    """The caller's labels plus the fingerprint label, deduplicated, order kept."""
    labels = [*spec.labels, FINGERPRINT_LABEL_PREFIX + spec.fingerprint]
    return tuple(dict.fromkeys(labels))
