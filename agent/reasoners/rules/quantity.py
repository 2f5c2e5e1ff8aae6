"""Kubernetes resource quantities: parse to numbers, format memory back to `Mi`."""

from __future__ import annotations

import math
import re

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9,
            "T": 1e12, "P": 1e15, "E": 1e18}  # fmt: skip
_QUANTITY = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?|[+-]?\.\d+)(?:[eE]([+-]?\d+))?([a-zA-Z]{0,2})\s*$")

MI = 2**20


def parse_quantity(text: str | int | float) -> float:
    """A quantity in base units (bytes, cores): '256Mi' -> 268435456, '500m' -> 0.5, '1e3' -> 1000."""
    if isinstance(text, int | float):
        return float(text)
    match = _QUANTITY.match(str(text))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = match.groups()
    value = float(number) * (10 ** int(exponent) if exponent else 1)
    if suffix in _BINARY:
        return value * _BINARY[suffix]
    if suffix in _DECIMAL:
        return value * _DECIMAL[suffix]
    raise ValueError(f"unknown quantity suffix {suffix!r} in {text!r}")


def try_parse_quantity(text: object) -> float | None:
    """Like `parse_quantity`, but None for anything unparseable."""
    if text is None or isinstance(text, bool):
        return None
    try:
        return parse_quantity(text if isinstance(text, int | float) else str(text))
    except (TypeError, ValueError):
        return None


def format_mebibytes(num_bytes: float) -> str:
    """Bytes as whole mebibytes, rounded up: 300000000 -> '287Mi'."""
    return f"{max(1, math.ceil(num_bytes / MI))}Mi"


def format_cpu(cores: float) -> str:
    """Cores as millicores, rounded down (never above what was computed): 0.75 -> '750m'."""
    return f"{max(1, math.floor(cores * 1000))}m"
