"""No redaction marker is ever written: a patch holding `«redacted:…»` is refused.

Everything a reasoner sees was redacted where it left the tools (`tools.boundary`), so a value it
copies out of the evidence (an env var of an earlier revision, a probe's command) may be a marker
instead of the secret it stands for. Written into a Deployment or into Git, the marker would replace
a working password with a placeholder and break the workload. A fix that needs a secret value must
reference it instead of copying it: roll back by revision number (the cluster copies the real
template), revert the commit, or point `valueFrom` at the Secret. Keys are checked too: a marker is
never a field name.
"""

from __future__ import annotations

from typing import Any

from graph.policies.patch import walk
from tools.redaction import MARKER_PATTERN


def _holds_marker(value: Any) -> bool:
    return isinstance(value, str) and MARKER_PATTERN.search(value) is not None


def marker_problems(patch: Any) -> list[str]:
    """Why `patch` must not be written: one reason per place it holds a redaction marker."""
    problems = []
    for parent, key, value in walk(patch):
        path = f"{parent}.{key}" if parent else str(key)
        if _holds_marker(key):
            problems.append(f"a patch key is a redaction marker at {parent or 'the top'}")
        elif _holds_marker(value):
            problems.append(
                f"writes a redacted value at {path}: a marker stands for a secret and is not its "
                "value; restore it by reference (rollback by revision, revert the commit, valueFrom)"
            )
        elif isinstance(value, list):
            for item in value:
                if _holds_marker(item):
                    problems.append(f"writes a redacted value in the list at {path}")
                    break
    return list(dict.fromkeys(problems))
