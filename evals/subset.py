"""The small fixed eval subset `make test` runs with the rules provider, and its accuracy floor.

The floor is recorded in docs/evals.md (the line `Subset accuracy floor: **N**`); the test reads it
from there, so the documented number and the enforced one cannot drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

# Across categories, with one healthy-but-noisy control and one hostile-log scenario; all from
# `dev` (the tuning split), so `test` stays unseen by anything that gates commits.
SUBSET_IDS: tuple[str, ...] = (
    "dev-bad-image-worker",
    "dev-missing-env-worker-hostile-logs",
    "dev-missing-config-key-worker",
    "dev-unschedulable-worker",
    "dev-control-noisy-errors",
)
DOC_PATH = Path(__file__).resolve().parent.parent / "docs" / "evals.md"
_FLOOR = re.compile(r"Subset accuracy floor:\s*\*\*([0-9.]+)\*\*")


def accuracy_floor(doc: Path = DOC_PATH) -> float:
    """The floor of root-cause category and faulty-resource accuracy on the subset, from the doc."""
    match = _FLOOR.search(doc.read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"{doc}: no 'Subset accuracy floor: **N**' line")
    floor = float(match.group(1))
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"{doc}: the subset accuracy floor {floor} is not a rate in [0, 1]")
    return floor
