"""What every printer shares: column definitions, kubectl's human durations, label and selector text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Obj = dict[str, Any]
Row = list[Any]
Printer = tuple[list[dict[str, Any]], Callable[[Obj, datetime], Row]]


def col(name: str, type_: str = "string", priority: int = 0, fmt: str = "") -> dict[str, Any]:
    """One column definition of a Table."""
    return {"name": name, "type": type_, "format": fmt, "description": "", "priority": priority}


def human_duration(seconds: float) -> str:
    """apimachinery's duration.HumanDuration (what AGE, DURATION and "(5m ago)" print)."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d{hours % 24}h" if hours % 24 else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def parse_time(timestamp: str | None) -> datetime | None:
    """An RFC 3339 timestamp (seconds or fractional), or None."""
    if not timestamp:
        return None
    text = timestamp.split(".")[0].rstrip("Z") + "Z"
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def age(timestamp: str | None, now: datetime) -> str:
    """How long ago `timestamp` was, as kubectl prints AGE (`<unknown>` when unset)."""
    then = parse_time(timestamp)
    if then is None:
        return "<unknown>"
    return human_duration((now - then).total_seconds())


def since(start: str | None, end: str | None) -> str:
    """The duration between two timestamps."""
    a, b = parse_time(start), parse_time(end)
    return human_duration((b - a).total_seconds()) if a and b else ""


def labels_text(labels: dict[str, str] | None) -> str:
    """labels.FormatLabels: `k=v,k2=v2`, `<none>` when empty."""
    return ",".join(f"{k}={v}" for k, v in sorted((labels or {}).items())) or "<none>"


def selector_text(selector: Obj | None) -> str:
    """metav1.FormatLabelSelector: matchLabels and expressions, `<none>` when empty."""
    if not selector:
        return "<none>"
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op, key, values = expr.get("operator"), expr.get("key"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts) or "<none>"


def template_containers(obj: Obj) -> tuple[str, str]:
    """(names, images) of a workload's pod template containers, comma-joined."""
    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def name_age(obj: Obj, now: datetime) -> Row:
    """The generic row: NAME, AGE."""
    return [obj["metadata"]["name"], age(obj["metadata"].get("creationTimestamp"), now)]
