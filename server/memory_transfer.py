"""Moving incident memory between clusters: JSON Lines, one `MemoryEntry` per line.

Import validates every line before writing any (a half-imported file would be a memory nobody
can reason about) and redacts again on the way in (`MemoryEntry`'s validators), whatever the
exporting side did.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO

from pydantic import ValidationError

from server.runstore import RunStore
from server.runstore.memory_models import MemoryEntry

MAX_LINE = 1_000_000


class MemoryFileError(ValueError):
    """A memory file that cannot be imported; the message names every bad line."""


def export_lines(store: RunStore) -> Iterator[str]:
    """Every remembered incident as one JSON line, newest first."""
    for entry in store.memory_entries():
        yield entry.model_dump_json()


def read_entries(lines: Iterable[str]) -> list[MemoryEntry]:
    """Parse and validate a memory file; MemoryFileError naming each bad line (up to 10)."""
    entries: list[MemoryEntry] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            if len(line) > MAX_LINE:
                raise ValueError(f"longer than {MAX_LINE} characters")
            entries.append(MemoryEntry.model_validate(json.loads(line)))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"line {number}: {first}")
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise MemoryFileError(f"nothing imported: {len(problems)} bad line(s): {shown}")
    return entries


def import_file(store: RunStore, handle: IO[str]) -> int:
    """Import a memory file (all or nothing); how many entries were stored."""
    entries = read_entries(handle)
    for entry in entries:
        store.remember(entry)
    return len(entries)
