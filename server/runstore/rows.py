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
AUDIT_COLUMNS = "id, run_id, ts, who, what, why, diff, result, action, target, details"


def _target(row: Row) -> WorkloadRef:
    return WorkloadRef(namespace=row["namespace"], kind=row["kind"], name=row["name"])


def event_of(backend: Backend, row: Row) -> TraceEvent:
    """A trace_events row as a TraceEvent."""
    return TraceEvent(
        id=row["id"],
        run_id=row["run_id"],
        seq=row["seq"],
        ts=backend.ts_value(row["ts"]),
        type=row["type"],
        node=row["node"],
        summary=row["summary"],
        payload=backend.json_value(row["payload"]),
        blobs=[BlobRef.model_validate(ref) for ref in backend.json_value(row["blobs"])],
    )


def run_of(backend: Backend, row: Row) -> RunRecord:
    """A runs row as a RunRecord."""
    finished = row["finished_at"]
    return RunRecord(
        id=row["id"],
        incident_id=row["incident_id"],
        fingerprint=row["fingerprint"],
        target=_target(row),
        mode=row["mode"],
        provider=row["provider"],
        status=row["status"],
        created_at=backend.ts_value(row["created_at"]),
        updated_at=backend.ts_value(row["updated_at"]),
        finished_at=backend.ts_value(finished) if finished is not None else None,
        diagnosis=backend.json_value(row["diagnosis"]),
        decision=backend.json_value(row["decision"]),
        actions=backend.json_value(row["actions"]),
        verification=backend.json_value(row["verification"]),
        error=row["error"],
        last_seq=row["last_seq"],
    )


def incident_of(backend: Backend, row: Row) -> IncidentRecord:
    """An incidents row as an IncidentRecord."""
    return IncidentRecord(
        id=row["id"],
        fingerprint=row["fingerprint"],
        target=_target(row),
        reason=row["reason"],
        trigger=row["triggered_by"],
        summary=row["summary"],
        labels=backend.json_value(row["labels"]),
        first_seen=backend.ts_value(row["first_seen"]),
        last_seen=backend.ts_value(row["last_seen"]),
        count=row["count"],
        status=row["status"],
    )


def audit_of(backend: Backend, row: Row) -> AuditRecord:
    """An audit_log row as an AuditRecord."""
    return AuditRecord(
        id=row["id"],
        run_id=row["run_id"],
        ts=backend.ts_value(row["ts"]),
        who=row["who"],
        what=row["what"],
        why=row["why"],
        diff=row["diff"],
        result=row["result"],
        action=row["action"],
        target=row["target"],
        details=backend.json_value(row["details"]),
    )


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
