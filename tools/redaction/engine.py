"""The redactor: every detector over a text, overlapping finds merged, each secret value replaced.

Detectors, in `detectors`: private key blocks, URL user-info, Authorization/bearer/basic
credentials, cookies, known token formats (detect-secrets' plugins and more), command-line
flags, secret names (`name=value` and its JSON/YAML/env forms) and high-entropy strings.
Each yields the span of a secret *value*; overlapping spans are joined (a secret is never
half-replaced); each span becomes a marker keyed on its text, so equal secrets get equal markers.

Cost is linear in the text: precompiled patterns, each gated by a cheap substring test where one
exists, and the entropy measure only on candidate tokens. Nested analysis (what a connection
string holds, what a base64 string decodes to) is bounded to two levels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from tools.redaction.commands import command_spans, listed_argv_spans
from tools.redaction.entropy import entropy_spans
from tools.redaction.marker import MARKER_PATTERN, MARKER_PREFIX, Marker, is_marker
from tools.redaction.names import classify_name
from tools.redaction.pairs import pair_spans, value_spans
from tools.redaction.spans import Detector, Span, merge
from tools.redaction.syntax import cookie_spans, header_spans, private_key_spans, url_userinfo_spans
from tools.redaction.tokens import token_spans

_MAX_DEPTH = 2
# Every detector needs a separator (name=value, a flag and its value, a header, a URL) or a token
# at least this long, so shorter text without one holds no secret it could find.
_SHORTEST_UNNAMED = 20
_SEPARATORS = "=: \t\n"

# The detectors that need nothing but the text.
SHAPE_DETECTORS: tuple[Detector, ...] = (
    private_key_spans,
    url_userinfo_spans,
    header_spans,
    cookie_spans,
    token_spans,
    command_spans,
    listed_argv_spans,
)


def _outside_markers(text: str, spans: list[Span]) -> Iterator[Span]:
    """The parts of `spans` outside the markers already in `text` that hold a letter or digit.

    Redacting a redacted text changes nothing: a marker is never hashed again, and what a
    detector sees around it (`«redacted:…»@` after a URL password) is not a new secret.
    """
    markers = [m.span() for m in MARKER_PATTERN.finditer(text)]
    for span in spans:
        start = span.start
        for m_start, m_end in markers:
            if m_end <= start or m_start >= span.end:
                continue
            if m_start > start and any(c.isalnum() for c in text[start:m_start]):
                yield Span(start, m_start, span.kind)
            start = max(start, m_end)
        if start < span.end and any(c.isalnum() for c in text[start : span.end]):
            yield Span(start, span.end, span.kind)


class Redactor:
    """Finds secrets in text and replaces them with markers from one `Marker` (one HMAC key)."""

    def __init__(self, marker: Marker | None = None) -> None:
        self.marker = marker if marker is not None else Marker()

    def findings(self, text: str) -> list[Span]:
        """The merged spans of every secret in `text`, in order."""
        return self._spans(text, 0) if text else []

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by its marker; everything else unchanged."""
        if not text:
            return text
        return self._apply(text, self._spans(text, 0))

    def redact_named(self, name: str, value: str) -> str:
        """A value whose name is known (an env var, a field): by its name, then by its shapes."""
        name_class = classify_name(name)
        if name_class is None:
            return self.redact(value)
        return self._apply(value, merge(value_spans(name_class, value, self._inner(1))))

    def replace_whole(self, value: str) -> str:
        """The marker for a value that is secret as a whole (a Secret's data, a flag's value)."""
        if not value or is_marker(value):
            return value
        return self.marker(value)

    # -- internals ---------------------------------------------------------------------------

    def _inner(self, depth: int) -> Callable[[str], list[Span]]:
        """The detectors run on a part of a text (a connection string's value), one level down."""
        return lambda text: self._spans(text, depth) if depth <= _MAX_DEPTH else []

    def _spans(self, text: str, depth: int) -> list[Span]:
        if len(text) < _SHORTEST_UNNAMED and not any(c in text for c in _SEPARATORS):
            return []  # `Running`, `250m`, `checkout`: too short for a token, no name, no flag
        spans: list[Span] = []
        for detect in SHAPE_DETECTORS:
            spans.extend(detect(text))
        if depth < _MAX_DEPTH:
            spans.extend(pair_spans(text, self._inner(depth + 1)))
            spans.extend(entropy_spans(text, lambda decoded: bool(self._spans(decoded, depth + 1))))
        if MARKER_PREFIX in text:
            spans = list(_outside_markers(text, spans))
        return merge(spans)

    def _apply(self, text: str, spans: Iterable[Span]) -> str:
        out: list[str] = []
        position = 0
        for span in spans:
            out.append(text[position : span.start])
            out.append(self.marker(text[span.start : span.end]))
            position = span.end
        out.append(text[position:])
        return "".join(out)
