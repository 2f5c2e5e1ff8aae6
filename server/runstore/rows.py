"""Stored rows to records, and opaque paging cursors."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from agent.domain import WorkloadRef
from agent.trace import BlobRef, TraceEvent
from server.runstore.backend import Backend, Row
from server.runstore.errors import InvalidInputError
from server.runstore.models import AuditRecord, IncidentRecord, RunRecord

EVENT_COLUMNS = "id, run_id, seq, ts, type, node, summary, payload, blobs"
RUN_COLUMNS = (
    "id, incident_id, fingerprint, namespace, kind, name, mode, provider, status, created_at, updated_at,"
    " finished_at, diagnosis, decision, actions, verification, error, last_seq"
)
INCIDENT_COLUMNS = (
    "id, fingerprint, namespace, kind, name, reason, triggered_by, summary, labels, first_seen, last_seen,"
    " count, status"
)
# Added by schema version 2 (the merge wait and the incident lifecycle); inserts leave them to
# their defaults, so they are only read.
RUN_LIFECYCLE_COLUMNS = "folded, last_folded_at, attach_until"
INCIDENT_LIFECYCLE_COLUMNS = "resolved_at, reopened"
RUN_SELECT = f"SELECT {RUN_COLUMNS}, {RUN_LIFECYCLE_COLUMNS} FROM runs"
INCIDENT_SELECT = f"SELECT {INCIDENT_COLUMNS}, {INCIDENT_LIFECYCLE_COLUMNS} FROM incidents"
AUDIT_COLUMNS = "id, run_id, ts, who, what, why, diff, result, action, target, details"


# How stored values become Python values: timestamps and JSON differ per backend; the rest is plain.
_TIMESTAMPS = frozenset(
    {"ts", "created_at", "updated_at", "finished_at", "first_seen", "last_seen"}
    | {"last_folded_at", "attach_until", "resolved_at"}
)
_JSON = frozenset(
    {"payload", "blobs", "diagnosis", "decision", "actions", "verification", "labels", "details"}
)
_TARGET = ("namespace", "kind", "name")


def _values(backend: Backend, row: Row) -> dict[str, Any]:
    """The row's columns as Python values (a NULL timestamp stays None)."""
    values = dict(row)
    for column, raw in row.items():
        if column in _TIMESTAMPS and raw is not None:
            values[column] = backend.ts_value(raw)
        elif column in _JSON:
            values[column] = backend.json_value(raw)
    return values


def _with_target(values: dict[str, Any]) -> dict[str, Any]:
    """The namespace, kind and name columns folded into the record's `target`."""
    target = WorkloadRef(**{column: values.pop(column) for column in _TARGET})
    return {**values, "target": target}


def event_of(backend: Backend, row: Row) -> TraceEvent:
    """A trace_events row as a TraceEvent."""
    values = _values(backend, row)
    return TraceEvent(**{**values, "blobs": [BlobRef.model_validate(ref) for ref in values["blobs"]]})


def run_of(backend: Backend, row: Row) -> RunRecord:
    """A runs row as a RunRecord."""
    return RunRecord(**_with_target(_values(backend, row)))


def incident_of(backend: Backend, row: Row) -> IncidentRecord:
    """An incidents row as an IncidentRecord (the `triggered_by` column is its `trigger`)."""
    values = _with_target(_values(backend, row))
    trigger = values.pop("triggered_by")
    return IncidentRecord(**values, trigger=trigger)


def audit_of(backend: Backend, row: Row) -> AuditRecord:
    """An audit_log row as an AuditRecord."""
    return AuditRecord(**_values(backend, row))


def encode_cursor(at: datetime, record_id: str) -> str:
    """An opaque cursor pointing just past (`at`, `record_id`) in newest-first order."""
    raw = json.dumps([at.isoformat(), record_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (timestamp, id) a cursor points past; InvalidInputError when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, record_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(record_id, str):
            raise ValueError("malformed")
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"invalid paging cursor {cursor!r}") from exc
    return when, record_id


def check_limit(limit: int, maximum: int) -> int:
    """`limit` when it is 1..maximum, else InvalidInputError."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise InvalidInputError(f"limit must be an integer from 1 to {maximum}, got {limit!r}")
    return limit


def as_json_list(value: Any) -> list[Any]:
    """`value` when it is a list, else InvalidInputError."""
    if not isinstance(value, list):
        raise InvalidInputError(f"actions must be a list, got {type(value).__name__}")
    return value
