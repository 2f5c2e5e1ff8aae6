"""Kubernetes resource quantities (`500m`, `256Mi`, `1.5Gi`, `1e3`) as plain numbers."""

from __future__ import annotations

import re

_SUFFIX = {
    "": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
    "Ki": 1024, "Mi": 1024**2, "Gi": 1024**3, "Ti": 1024**4, "Pi": 1024**5, "Ei": 1024**6,
}  # fmt: skip
_RE = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
MI = 1024**2


def parse_quantity(value: str | int | float | None) -> float:
    """The quantity's value in base units (bytes, cores); ValueError when malformed."""
    if value is None:
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    m = _RE.match(str(value).strip())
    if not m:
        raise ValueError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': "
            f"{value!r}"
        )
    return float(m.group(1)) * _SUFFIX[m.group(2) or ""]


def memory_bytes(value: str | int | float | None) -> int:
    """A memory quantity in bytes (0 when unset)."""
    return int(parse_quantity(value))


def cpu_millis(value: str | int | float | None) -> int:
    """A CPU quantity in millicores (0 when unset)."""
    return round(parse_quantity(value) * 1000)


def format_mi(nbytes: float) -> str:
    """Bytes as the kubelet prints memory in eviction messages (`182Mi`)."""
    return f"{round(nbytes / MI)}Mi"


def format_quantity(value: float, binary: bool) -> str:
    """A quantity in Kubernetes' canonical form: `500m`, `2`, `512Mi`, `1Gi`, `1500M`."""
    if value == 0:
        return "0"
    millis = round(value * 1000)
    if millis % 1000:
        return f"{millis}m"
    whole = millis // 1000
    suffixes = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei") if binary else ("k", "M", "G", "T", "P", "E")
    base = 1024 if binary else 1000
    suffix = ""
    for candidate in suffixes:
        if whole % base or whole < base:
            break
        whole //= base
        suffix = candidate
    return f"{whole}{suffix}"


def is_binary(value: str | int | float | None) -> bool:
    """Whether a quantity was written with a binary suffix (Ki, Mi, Gi...)."""
    return isinstance(value, str) and value.strip().endswith("i")
