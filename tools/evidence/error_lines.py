"""Which log lines report a failure: a count of error lines by the shape of the line, never its story.

A workload's log is untrusted text. This module only *counts*: each line is an error, an ordinary
line, or part of the line before (a stack frame); nothing in a line can change how another line is
counted or make the count say more than "n of m lines were errors". The shapes are those of real
log formats, not of any one program:

- an explicit level: JSON `"level":"error"` (also `severity`, `lvl`, `levelname`), logfmt
  `level=error`, a level word near the start (`ERROR`, `FATAL`, `CRITICAL`, `[error]`,
  `ERROR/ForkPoolWorker-2`, Postgres `FATAL:`), klog's `E1207 12:00:00.000000`;
- an HTTP status 5xx: an access line (`"GET /x HTTP/1.1" 503`), JSON `"status":500`,
  `status=502`, `status 500`;
- an exception: `Traceback (most recent call last):` (with its frames and final line, one error),
  `ValueError: ...`, `Exception in thread ...`, `panic: ...`.

A 5xx status counts even on an `INFO` line (an access log writes failures at info level); a level
word is read only from a line's first characters, so a message that merely mentions "ERROR" in
its text does not count. A 4xx is the client's error, not the workload's, and does not count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

MAX_LINE_CHARS = 4096  # what a line is judged on: a megabyte-long line costs no more than this
MAX_JSON_CHARS = 16384  # longer JSON lines are read by their shapes only
_LEVEL_PREFIX_CHARS = 100  # a level word is looked for this far into a line

_ERROR_LEVELS = frozenset(
    {"error", "err", "fatal", "critical", "crit", "panic", "alert", "emerg", "emergency", "severe", "dpanic"}
)
_LEVEL_KEYS = ("level", "lvl", "severity", "levelname", "log.level", "loglevel", "log_level")
_STATUS_KEYS = ("status", "status_code", "statusCode", "http_status", "response_status", "code")
_HTTP_NESTED = ("http", "response", "httpRequest")

_LEVEL_WORD = re.compile(
    r"(?:^|[\s\[(|:,])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|CRIT|PANIC|SEVERE"
    r"|EMERG|ALERT|LOG)(?=[\s\]):|/,]|$)"
    r"|\[(error|crit|alert|emerg|warn|warning|notice|info|debug)\]"  # nginx, Apache: `[error]`
)
_LOGFMT_LEVEL = re.compile(r"(?:^|\s)(?:level|lvl|severity)=[\"']?([A-Za-z]+)", re.IGNORECASE)
_KLOG = re.compile(r"^([IWEF])\d{4} \d\d:\d\d:\d\d")
_ACCESS_STATUS = re.compile(r"\"[A-Z]{3,10} \S+ HTTP/\d(?:\.\d)?\"\s+(\d{3})\b")
_STATUS_WORD = re.compile(r"\b(?:status|status_code|code)(?:\"?\s*[:=]\s*\"?|\s+)(\d{3})\b", re.IGNORECASE)
_EXCEPTION = re.compile(
    r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)(?::|$)"
    r"|Exception in thread |panic: |fatal error: )"
)
_TRACEBACK = "Traceback (most recent call last):"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")  # colour codes of a terminal logger


class LineKind(Enum):
    """What one line of a log is, for counting."""

    ERROR = "error"
    OK = "ok"
    PART = "part"  # a continuation of the line before (a stack frame, a blank line): not counted


@dataclass(frozen=True)
class ErrorCount:
    """Error lines among the counted lines of some logs, and the first error line (raw: untrusted,
    unredacted; whoever shows it redacts it)."""

    lines: int = 0
    errors: int = 0
    sample: str = ""

    @property
    def share(self) -> float:
        """The fraction of counted lines that are errors (0 when nothing was counted)."""
        return self.errors / self.lines if self.lines else 0.0

    def __add__(self, other: ErrorCount) -> ErrorCount:
        return ErrorCount(self.lines + other.lines, self.errors + other.errors, self.sample or other.sample)


def _is_error_level(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in _ERROR_LEVELS


def _is_5xx(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return isinstance(value, int) and 500 <= value <= 599


def _json_kind(doc: Mapping[str, Any]) -> LineKind:
    if any(_is_error_level(doc.get(key)) for key in _LEVEL_KEYS):
        return LineKind.ERROR
    nested = [doc.get(key) for key in _HTTP_NESTED]
    for part in (doc, *(n for n in nested if isinstance(n, Mapping))):
        if any(_is_5xx(part.get(key)) for key in _STATUS_KEYS):
            return LineKind.ERROR
    return LineKind.OK


def _json_doc(line: str) -> Mapping[str, Any] | None:
    if not line.startswith("{") or len(line) > MAX_JSON_CHARS:
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _text_kind(line: str) -> LineKind:
    if _EXCEPTION.match(line) or line.startswith(("error: ", "fatal: ", "ERROR: ", "FATAL: ")):
        return LineKind.ERROR
    klog = _KLOG.match(line)
    if klog:
        return LineKind.ERROR if klog.group(1) in "EF" else _status_kind(line)
    logfmt = _LOGFMT_LEVEL.search(line)
    if logfmt and _is_error_level(logfmt.group(1)):
        return LineKind.ERROR
    if not logfmt:
        word = _LEVEL_WORD.search(line[:_LEVEL_PREFIX_CHARS])
        if word and _is_error_level(word.group(1) or word.group(2)):
            return LineKind.ERROR
    return _status_kind(line)


def _status_kind(line: str) -> LineKind:
    access = _ACCESS_STATUS.search(line)
    if access:
        return LineKind.ERROR if _is_5xx(access.group(1)) else LineKind.OK
    return LineKind.ERROR if any(_is_5xx(m.group(1)) for m in _STATUS_WORD.finditer(line)) else LineKind.OK


def classify(line: str) -> LineKind:
    """One line on its own: an error, an ordinary line, or a continuation (indented, blank)."""
    text = _ANSI.sub("", line[:MAX_LINE_CHARS])
    if not text.strip() or text[:1] in (" ", "\t") or text.startswith(("Caused by:", "...")):
        return LineKind.PART
    text = text.rstrip()
    doc = _json_doc(text)
    if doc is not None:
        return _json_kind(doc)
    if text.startswith(_TRACEBACK):
        return LineKind.ERROR
    return _text_kind(text)


def count_errors(lines: Iterable[str]) -> ErrorCount:
    """Count the error lines of one log, oldest first. A Python traceback is one error: its header,
    frames and closing exception line count once."""
    counted = errors = 0
    sample = ""
    in_traceback = False
    for raw in lines:
        line = _ANSI.sub("", raw[:MAX_LINE_CHARS]).rstrip("\r\n")
        kind = classify(line)
        if kind is LineKind.PART:
            continue
        if in_traceback:
            in_traceback = False
            if _EXCEPTION.match(line[:MAX_LINE_CHARS]):
                continue  # the traceback's closing line: already counted with its header
        counted += 1
        if kind is LineKind.ERROR:
            errors += 1
            sample = sample or line
            in_traceback = line.startswith(_TRACEBACK)
    return ErrorCount(counted, errors, sample)
