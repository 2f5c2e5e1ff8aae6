"""Log lines reduced to their shape: numbers, ids, hashes, addresses and quoted values masked, so
the same error on another pod, another day, at another address reads the same."""

from __future__ import annotations

import re

# Order matters: longer, more specific shapes first, so a UUID is not eaten as numbers.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"«redacted:[0-9a-f]+»"), "<secret>"),
    (re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<ts>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b[0-9a-f]{12,}\b", re.I), "<hash>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]{8,10}-[a-z0-9]{5}\b"), "<pod>"),
    (re.compile(r"\"[^\"]{0,200}\"|'[^']{0,200}'"), "<str>"),
    (re.compile(r"0x[0-9a-f]+", re.I), "<hex>"),
    (re.compile(r"\b\d+(?:\.\d+)?(?:[a-zA-Z]{1,3})?\b"), "<n>"),
)
# A line worth remembering says something went wrong.
_TROUBLE = re.compile(
    r"error|exception|fatal|panic|killed|refused|fail|denied|not found|missing|timeout|timed out"
    r"|unable|cannot|could not|invalid|out of memory|oom|no such|undefined|traceback",
    re.I,
)
_SPACE = re.compile(r"\s+")
MAX_LINE = 160


def mask_line(line: str) -> str:
    """`line` with its variable parts masked and spaces folded, capped at 160 characters."""
    masked = line
    for pattern, replacement in _MASKS:
        masked = pattern.sub(replacement, masked)
    return _SPACE.sub(" ", masked).strip()[:MAX_LINE]


def trouble_lines(text: str, limit: int = 5) -> list[str]:
    """The distinct masked lines of a log that report trouble, in first-seen order, at most `limit`."""
    found: dict[str, None] = {}
    for raw in text.splitlines():
        if not _TROUBLE.search(raw):
            continue
        masked = mask_line(raw)
        if masked and masked not in found:
            found[masked] = None
            if len(found) >= limit:
                break
    return list(found)
