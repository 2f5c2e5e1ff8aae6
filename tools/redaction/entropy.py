"""Long random-looking strings with no name or known format around them.

A candidate is a run of 20+ base64/base64url characters. It is a secret when it looks random:

- both upper- and lower-case letters (hex digests, git SHAs, UUIDs, image digests, pod-template
  hashes and Kubernetes names are single-case, so they are never candidates),
- Shannon entropy (detect-secrets' `Base64HighEntropyString` measure) at least 0.8·log2(length)
  capped at 4.5 — what 99% of random strings of that length reach,
- short letter/digit runs (mean run under 3 characters): `AbstractAutowireCapableBeanFactory`,
  `HTTP2ServerConnectionHandler` and other identifiers are made of words, random strings are not,
- and, when it decodes as base64, not plain text: base64 of a config snippet or a sentence stays,
  base64 of random bytes or of `user:password` (or of anything that itself holds a secret) goes.

On random base62/base64 strings of 20-64 characters this finds 98-99.9% (the rest look like
words); names and formats catch what it misses. Path-like candidates (`/api/v1/Users/...`) are
trimmed of their leading and trailing lowercase segments first.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
import re
from collections.abc import Callable, Iterator

from tools.redaction.spans import Span

MIN_LENGTH = 20
_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{20,}={0,2}(?![A-Za-z0-9+/=_\-])")
_RUN = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_PLAIN_SEGMENT = re.compile(r"^[a-z0-9._\-]*$")


@functools.cache
def _shannon_entropy() -> Callable[[str], float]:
    # detect-secrets' measure, loaded at the first redaction rather than at import (like the
    # formats in `tools.redaction.tokens`): 0.2 s of CPU a process that never redacts is spared.
    from detect_secrets.plugins.high_entropy_strings import Base64HighEntropyString

    return Base64HighEntropyString().calculate_shannon_entropy


# Finds secrets in a decoded text (the engine's own text detection, depth-limited by length).
Inner = Callable[[str], bool]


def _threshold(length: int) -> float:
    return min(0.8 * math.log2(length), 4.5)


def looks_random(token: str) -> bool:
    """Mixed case, high entropy, short runs: a random string rather than an identifier."""
    if len(token) < MIN_LENGTH:
        return False
    if not (any(c.isupper() for c in token) and any(c.islower() for c in token)):
        return False
    runs = _RUN.findall(token)
    if not runs or sum(map(len, runs)) / len(runs) >= 3.0:
        return False
    return _shannon_entropy()(token) >= _threshold(len(token))


def _decoded_text(token: str) -> str | None:
    """The UTF-8 text `token` decodes to as base64 (standard or URL-safe), if it is text."""
    padded = token + "=" * (-len(token) % 4)
    for decode in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decode(padded)
        except (binascii.Error, ValueError):
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
        printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
        return text if text and printable / len(text) > 0.95 else None
    return None


def _benign_base64(token: str, holds_secret: Inner) -> bool:
    """Base64 of ordinary text (words, lines, structure) with no secret inside."""
    text = _decoded_text(token)
    if text is None:
        return False
    if not any(c in text.strip() for c in " \n\t{}<>,"):
        return False  # one word: a base64'd password, token or `user:password`
    return not holds_secret(text)


def _trim_path(token: str, start: int) -> tuple[str, int]:
    """A slash-separated candidate without its plain lowercase leading/trailing segments."""
    segments = token.split("/")
    while len(segments) > 1 and _PLAIN_SEGMENT.match(segments[0]):
        start += len(segments[0]) + 1
        segments.pop(0)
    while len(segments) > 1 and _PLAIN_SEGMENT.match(segments[-1]):
        segments.pop()
    return "/".join(segments), start


def entropy_spans(text: str, holds_secret: Inner) -> Iterator[Span]:
    """Random-looking strings in `text`; `holds_secret` judges what a base64 string decodes to."""
    for match in _CANDIDATE.finditer(text):
        token, start = match.group(0), match.start()
        if "/" in token:
            # A URL path with a random segment (`/services/T0/B0/<secret>`): that segment alone.
            found = False
            offset = start
            for segment in token.split("/"):
                if looks_random(segment) and not _benign_base64(segment, holds_secret):
                    found = True
                    yield Span(offset, offset + len(segment), "high-entropy")
                offset += len(segment) + 1
            if found:
                continue
            token, start = _trim_path(token, start)
        if looks_random(token) and not _benign_base64(token, holds_secret):
            yield Span(start, start + len(token), "high-entropy")
