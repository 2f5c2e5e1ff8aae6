"""Bounded reads of the run store that both answerers share, and the time words they understand.

Every read is capped (`scan` records at most) so one question cannot walk an unbounded store.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.trace import TraceEvent, TraceEventType
from server.runstore import (
    AuditRecord,
    IncidentRecord,
    NotFoundError,
    RunRecord,
    RunStore,
)

DEFAULT_SCAN = 500
# The trace events a "why" answer cites: where the run decided, acted, asked and checked.
NOTABLE = frozenset(
    {
        TraceEventType.DECISION,
        TraceEventType.ACTION,
        TraceEventType.APPROVAL,
        TraceEventType.VERIFICATION,
        TraceEventType.ERROR,
    }
)

_WORD = re.compile(r"[a-z0-9][a-z0-9._-]*")
_UNITS = {
    "minute": timedelta(minutes=1), "minutes": timedelta(minutes=1), "min": timedelta(minutes=1),
    "mins": timedelta(minutes=1), "hour": timedelta(hours=1), "hours": timedelta(hours=1),
    "h": timedelta(hours=1), "day": timedelta(days=1), "days": timedelta(days=1),
    "week": timedelta(weeks=1), "weeks": timedelta(weeks=1),
}  # fmt: skip
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "twelve": 12, "24": 24}


def words(text: str) -> list[str]:
    """The question's lower-case words, trailing punctuation dropped (`checkout?` -> `checkout`)."""
    return [w.rstrip(".-_") for w in _WORD.findall(text.lower()) if w.rstrip(".-_")]


@dataclass(frozen=True)
class Window:
    """A half-open time range [start, end) and how the question put it."""

    start: datetime
    end: datetime
    phrase: str

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        fmt = "%Y-%m-%d %H:%M UTC"
        return f"{self.phrase} ({self.start.strftime(fmt)} to {self.end.strftime(fmt)})"


def parse_window(question_words: list[str], now: datetime) -> Window | None:
    """The window named by today / yesterday / this week / last (N) minutes|hours|days|weeks."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    ahead = now + timedelta(microseconds=1)  # `now` itself is inside "today"
    for i, word in enumerate(question_words):
        if word == "today":
            return Window(midnight, ahead, "today")
        if word == "yesterday":
            return Window(midnight - timedelta(days=1), midnight, "yesterday")
        if word == "this" and i + 1 < len(question_words) and question_words[i + 1] == "week":
            return Window(midnight - timedelta(days=now.weekday()), ahead, "this week")
        if word in {"last", "past"} and i + 1 < len(question_words):
            count_word = question_words[i + 1]
            unit_word = question_words[i + 2] if i + 2 < len(question_words) else ""
            if count_word in _UNITS:  # "last hour"
                count, unit_word = 1, count_word
            elif count_word.isdigit() and 0 < int(count_word) <= 10_000:
                count = int(count_word)
            elif count_word in _NUMBERS:
                count = _NUMBERS[count_word]
            else:
                continue
            if unit_word in _UNITS:
                phrase = f"the last {count} {unit_word}" if count != 1 else f"the last {unit_word}"
                return Window(now - count * _UNITS[unit_word], ahead, phrase)
    return None


def recent_runs(store: RunStore, *, scan: int = DEFAULT_SCAN, **filters: Any) -> list[RunRecord]:
    """Runs, newest first, at most `scan` of them."""
    runs: list[RunRecord] = []
    cursor: str | None = None
    while len(runs) < scan:
        page = store.list_runs(limit=min(200, scan - len(runs)), cursor=cursor, **filters)
        runs.extend(page.items)
        if not page.next_cursor or not page.items:
            break
        cursor = page.next_cursor
    return runs


def recent_incidents(store: RunStore, *, scan: int = DEFAULT_SCAN) -> list[IncidentRecord]:
    """Incidents, newest first, at most `scan` of them."""
    incidents: list[IncidentRecord] = []
    cursor: str | None = None
    while len(incidents) < scan:
        page = store.list_incidents(limit=min(200, scan - len(incidents)), cursor=cursor)
        incidents.extend(page.items)
        if not page.next_cursor or not page.items:
            break
        cursor = page.next_cursor
    return incidents


def audit_entries(store: RunStore, *, run_id: str | None = None, scan: int = 5_000) -> list[AuditRecord]:
    """The audit log in append order, at most `scan` entries (the newest when there are more)."""
    entries: list[AuditRecord] = []
    after = 0
    while True:
        page = store.audit_log(run_id=run_id, after_id=after, limit=100)
        entries.extend(page)
        if len(page) < 100:
            break
        after = page[-1].id
        if len(entries) > scan:
            entries = entries[-scan:]
    return entries


def get_run(store: RunStore, run_id: str) -> RunRecord | None:
    """The run, or None when the store has no such id."""
    try:
        return store.get_run(run_id)
    except NotFoundError:
        return None


def resolve_run(store: RunStore, token: str, runs: list[RunRecord]) -> RunRecord | None:
    """The run `token` names: its exact id, or the unique recent run whose id starts with it."""
    if run := get_run(store, token):
        return run
    if len(token) < 4:  # short prefixes of hex ids match too much to mean anything
        return None
    matches = [r for r in runs if r.id.startswith(token)]
    return matches[0] if len(matches) == 1 else None


def trace(store: RunStore, run_id: str, *, scan: int = 2_000) -> list[TraceEvent]:
    """The run's trace in order, blobs inlined, at most `scan` events."""
    events: list[TraceEvent] = []
    after = 0
    while len(events) < scan:
        page = store.events(run_id, after_seq=after, limit=min(500, scan - len(events)))
        events.extend(store.inline_event(e) if e.blobs else e for e in page)
        if not page:
            break
        after = page[-1].seq or after + len(page)
    return events


def evidence_items(events: list[TraceEvent]) -> Iterator[tuple[dict[str, Any], TraceEvent]]:
    """Every evidence item (a mapping with id, kind and text) anywhere in the trace's payloads."""
    seen: set[str] = set()
    for event in events:
        for item in _walk(event.payload):
            if item["id"] not in seen:
                seen.add(item["id"])
                yield item, event


def _walk(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if isinstance(value.get("id"), str) and isinstance(value.get("kind"), str) and "text" in value:
            yield value
            return
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)
