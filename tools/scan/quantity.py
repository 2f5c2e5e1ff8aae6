"""Kubernetes quantities as numbers: CPU in cores, memory in bytes."""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "m": 1e-3,
}  # fmt: skip
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]{0,2})\s*$")


def parse_quantity(value: object) -> float | None:
    """`"500m"` -> 0.5, `"1Gi"` -> 1073741824.0, `2` -> 2.0; None when it is not a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None or match.group(2) not in _SUFFIX:
        return None
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def format_memory(value: float) -> str:
    """Bytes as a whole number of Mi (rounded down, at least 1Mi)."""
    return f"{max(1, int(value // 2**20))}Mi"


def format_cpu(value: float) -> str:
    """Cores as millicores (rounded down, at least 1m)."""
    return f"{max(1, int(value * 1000))}m"
