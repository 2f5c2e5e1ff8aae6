"""Log tails packed for a model: sanitised, folded and capped.

Log text comes from the workload and is hostile: it is never interpreted, only cleaned of
terminal control sequences and shortened. It arrives already redacted: the log tool's answer
passed the redaction boundary (`tools.boundary`, in `tools.result.call_tool`), which sanitises and
redacts the whole tail in one pass (so a secret written over several lines, a private key or a
YAML env entry, is seen whole). The pipeline is

1. sanitise: drop ANSI escape sequences and control characters (a log must not repaint a terminal
   or smuggle invisible text);
2. fold repeats: lines equal once leading timestamps and volatile numbers (durations, ids,
   addresses, counters) are ignored become one line, at the place of their newest occurrence,
   shown in their newest form with a count;
3. cap: keep the newest lines within the character budget and say how much was dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tools.redaction import MARKER_PATTERN, count_markers

DEFAULT_MAX_CHARS = 3_000
_NOTICE_ROOM = 64  # the "[… N earlier lines (M chars) dropped]" line and its newline

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")

# Leading timestamps in the common shapes: RFC 3339 / ISO 8601 (as `kubectl logs --timestamps`
# prints them), `2024-01-02 15:04:05,123`, bracketed forms, syslog `Jan  2 15:04:05`, klog
# `I0102 15:04:05.123456    1 file.go:12]`, and epoch seconds.
_LEADING_TIMESTAMP = re.compile(
    r"""^\s*\[?(?:
        \d{4}[-/]\d{2}[-/]\d{2}[T\s]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?
      | [A-Z][a-z]{2}\s+\d{1,2}\s\d{2}:\d{2}:\d{2}(?:\.\d+)?
      | [IWEF]\d{4}\s\d{2}:\d{2}:\d{2}\.\d+\s+\d+\s[\w.-]+:\d+\]
      | \d{2}:\d{2}:\d{2}(?:[.,]\d+)?
      | \d{10}(?:\.\d+)?
    )\]?\s*""",
    re.VERBOSE,
)
_VOLATILE = (
    re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE),  # UUID
    re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"),  # IPv4[:port]
    re.compile(r"\b0x[0-9a-f]+\b", re.IGNORECASE),  # addresses
    re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", re.IGNORECASE),  # hashes, ids
    re.compile(
        r"\d{4}[-/]\d{2}[-/]\d{2}[T\s]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"
    ),  # inner times
    re.compile(r"\b\d{2}/[A-Z][a-z]{2}/\d{4}(?::\d{2}:\d{2}:\d{2})?(?:\s[+-]\d{4})?"),  # access-log dates
    re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"),  # clock times
    # numbers with a unit of time, size or share: 12ms, 1.5s, 300KiB, 97%
    re.compile(r"\b\d+(?:\.\d+)?\s?(?:ns|us|µs|ms|s|m|h|[KMGT]i?B|B|%)(?![A-Za-z])"),
    re.compile(r"\b\d+\.\d+\b"),  # decimals
    re.compile(r"\b\d{4,}\b"),  # long numbers: pids, counters, byte counts, ports
)


def sanitize(line: str) -> str:
    """The line without ANSI escapes, control characters or bidi/zero-width tricks (tabs kept)."""
    return _CONTROL.sub("", _ANSI.sub("", line))


def normalize(line: str) -> str:
    """The comparison key for folding: no leading timestamp, volatile numbers replaced by `#`.

    Small plain integers (HTTP status codes, exit codes, attempt numbers) are kept: `500` and
    `200` are different lines.
    """
    key = _LEADING_TIMESTAMP.sub("", line, count=1)
    # Lines that differ only in which secret they held fold together (the marker's hash differs).
    key = MARKER_PATTERN.sub("«redacted»", key)
    for pattern in _VOLATILE:
        key = pattern.sub("#", key)
    return " ".join(key.split())


@dataclass(frozen=True)
class FoldedLine:
    """A distinct line (its newest form) and how often it occurred."""

    text: str
    count: int

    def render(self) -> str:
        """The line, with ` [x N]` when it repeated."""
        return self.text if self.count == 1 else f"{self.text} [x{self.count}]"


def fold(lines: Iterable[str]) -> list[FoldedLine]:
    """Fold repeated lines (equal after `normalize`); each keeps its newest position and text."""
    newest: dict[str, tuple[int, str]] = {}
    counts: dict[str, int] = {}
    for index, line in enumerate(lines):
        key = normalize(line)
        newest[key] = (index, line)
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(newest.items(), key=lambda item: item[1][0])
    return [FoldedLine(text, counts[key]) for key, (_, text) in ordered]


@dataclass(frozen=True)
class Capped:
    """The newest lines that fit the budget and what was left out."""

    lines: list[str]
    dropped_lines: int
    dropped_chars: int
    truncated_line: bool  # the newest line alone was over budget and was cut


def cap_tail(lines: list[str], max_chars: int = DEFAULT_MAX_CHARS) -> Capped:
    """Keep the newest lines whose total length (with newlines) fits `max_chars`.

    If even the newest line does not fit, its end is kept (the end of a line is where errors are).
    """
    if max_chars < 1:
        raise ValueError("max_chars must be positive")
    kept: list[str] = []
    used = 0
    for line in reversed(lines):
        cost = len(line) + (1 if kept else 0)
        if used + cost > max_chars:
            break
        kept.append(line)
        used += cost
    kept.reverse()
    truncated = False
    if not kept and lines:
        newest = lines[-1]
        kept = ["…" + newest[-(max_chars - 1) :]] if max_chars > 1 else [newest[-1:]]
        truncated = True
    dropped = lines[: len(lines) - len(kept)]
    dropped_chars = sum(len(line) + 1 for line in dropped)
    if truncated:
        dropped_chars += len(lines[-1]) - (len(kept[0]) - 1)
    return Capped(kept, len(dropped), dropped_chars, truncated)


@dataclass(frozen=True)
class PackedLog:
    """A log tail ready for a model."""

    text: str  # the folded, capped lines; a first line says what was dropped
    lines_in: int  # lines received
    distinct_lines: int  # after folding
    dropped_lines: int  # folded lines left out by the cap
    dropped_chars: int
    redactions: int  # secrets the boundary replaced (markers in the log)

    @property
    def truncated(self) -> bool:
        """True when the cap left something out."""
        return self.dropped_lines > 0 or self.dropped_chars > 0


def pack_log(text: str | Iterable[str], *, max_chars: int = DEFAULT_MAX_CHARS) -> PackedLog:
    """Sanitise, fold and cap a log (a string or lines, redacted at the boundary) to `max_chars`."""
    if max_chars < 80:
        raise ValueError("max_chars must be at least 80 (room for the dropped-lines notice)")
    raw = text.splitlines() if isinstance(text, str) else [str(line) for line in text]
    lines = [line for line in (sanitize(line).rstrip() for line in raw) if line.strip()]
    redactions = sum(count_markers(line) for line in lines)
    folded = [f.render() for f in fold(lines)]
    capped = cap_tail(folded, max_chars)
    body = capped.lines
    if capped.dropped_lines or capped.dropped_chars:
        capped = cap_tail(folded, max_chars - _NOTICE_ROOM)
        notice = f"[… {capped.dropped_lines} earlier lines ({capped.dropped_chars} chars) dropped]"
        body = [notice, *capped.lines]
    return PackedLog(
        text="\n".join(body),
        lines_in=len(raw),
        distinct_lines=len(folded),
        dropped_lines=capped.dropped_lines,
        dropped_chars=capped.dropped_chars,
        redactions=redactions,
    )
