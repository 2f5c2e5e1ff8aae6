"""Secret redaction: one engine for everything that may leave the tools layer.

    redact(text) -> str                  secrets in free text (logs, events, diffs, commands)
    redact_data(obj) -> obj              JSON-shaped data (Kubernetes objects, alerts), by
                                         structure (Secret data, env names, argv) and shape
    redact_named(name, value) -> str     one value whose name is known (an env var, a label)
    is_secret_key(name) -> bool          does a name say its value is a secret
    count_markers(text) -> int           how many secrets a redacted text had replaced
    Redactor / StructuredRedactor        the same with a chosen `Marker` (HMAC key), e.g. a
                                         per-install key from `load_or_create_key(path)`

Each secret value becomes `«redacted:3f9a1c»`: six hex digits of an HMAC of the value under a
random per-process key (so the marker cannot be brute-forced back, yet equal values correlate).
Only values go: names, images, hosts, ports, paths, numbers, SHAs, UUIDs and quantities stay.
The module-level functions share one process-wide `Redactor`, built once at import and never
changed afterwards.
"""

from tools.redaction.engine import Redactor
from tools.redaction.marker import (
    MARKER_PATTERN,
    Marker,
    MarkerKeyError,
    count_markers,
    is_marker,
    load_or_create_key,
)
from tools.redaction.names import NameClass, classify_name, is_secret_key
from tools.redaction.spans import Span
from tools.redaction.structured import StructuredRedactor

DEFAULT_REDACTOR = Redactor()
_STRUCTURED = StructuredRedactor(DEFAULT_REDACTOR)

redact = DEFAULT_REDACTOR.redact
redact_named = DEFAULT_REDACTOR.redact_named
findings = DEFAULT_REDACTOR.findings
redact_data = _STRUCTURED.redact_data
redact_argv = _STRUCTURED.redact_argv

__all__ = [
    "DEFAULT_REDACTOR",
    "MARKER_PATTERN",
    "Marker",
    "MarkerKeyError",
    "NameClass",
    "Redactor",
    "Span",
    "StructuredRedactor",
    "classify_name",
    "count_markers",
    "findings",
    "is_marker",
    "is_secret_key",
    "load_or_create_key",
    "redact",
    "redact_argv",
    "redact_data",
    "redact_named",
]
