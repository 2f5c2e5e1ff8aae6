"""Structured logging: JSON lines when stderr is not a TTY, readable lines when it is.

Every record carries the current run and incident ids (set with `correlation(...)`), so one
incident can be followed across the watcher, the graph and the tools.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal, TextIO

_RUN_ID: ContextVar[str | None] = ContextVar("paramedic_run_id", default=None)
_INCIDENT_ID: ContextVar[str | None] = ContextVar("paramedic_incident_id", default=None)

_STD_ATTRS = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


@contextlib.contextmanager
def correlation(run_id: str | None = None, incident_id: str | None = None) -> Iterator[None]:
    """Attach a run and/or incident id to every log record emitted inside the block."""
    tokens = []
    if run_id is not None:
        tokens.append((_RUN_ID, _RUN_ID.set(run_id)))
    if incident_id is not None:
        tokens.append((_INCIDENT_ID, _INCIDENT_ID.set(incident_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.run_id = _RUN_ID.get()
        record.incident_id = _INCIDENT_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with extras and correlation ids as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STD_ATTRS and value is not None:
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class ConsoleFormatter(logging.Formatter):
    """Compact human lines: time level logger [run/incident] message."""

    def format(self, record: logging.LogRecord) -> str:
        parts = (getattr(record, "run_id", None), getattr(record, "incident_id", None))
        ids = "/".join(x for x in parts if x)
        tag = f" [{ids}]" if ids else ""
        ts = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        line = f"{ts} {record.levelname:<7} {record.name}{tag}: {record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    stream: TextIO | None = None,
) -> None:
    """Install one handler on the root logger (replacing earlier ones from this function)."""
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if use_json else ConsoleFormatter())
    handler.addFilter(_CorrelationFilter())
    handler.set_name("paramedic")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "paramedic"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Client libraries are chatty at INFO; their warnings still come through.
    for noisy in ("urllib3", "kubernetes", "httpx", "httpcore", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
