"""The redaction boundary: what a tool hands out is redacted here, once, before anyone sees it.

Every tool answers through `tools.result.call_tool`, and `call_tool` passes the answer's data, its
error, the call's summary and its arguments through `redact_value` before they become a
`ToolResult` or a `ToolCallEvent`. So nothing outside `tools/` (the graph, its checkpoints, the run
store, trace events, SSE, the chat agent, prompts, pull requests, notifications, eval reports) ever
holds a raw secret read from the cluster, Git or Prometheus: it was never given one.

`redact_value` keeps the value's type and redacts by what each part is (`tools.redaction`):

- a string: ANSI escapes and control characters dropped (a secret split by a colour code is
  still seen whole, and no terminal or page can be repainted by it), then by its shapes, or by its
  name when it is a named field (`password`, `api_token`); a string holding JSON is redacted as
  the document it holds;
- a mapping or a list: as JSON-shaped data (`redact_data`: a Secret's `data`, env entries by
  their name, `command`/`args` by flag, secret-named keys);
- a pydantic model or a dataclass: field by field, each by its field name, into a copy;
- numbers, booleans, enums, times, paths, UUIDs, bytes: unchanged (no marker fits their type).

Anything else cannot be vouched for and raises `TypeError`: `call_tool` then answers an error
without the data (fail closed). Reads a tool makes only to write (the template `rollout undo`
copies back, the file a Git commit patches) stay inside the tool and are never redacted: a marker
written into a workload or into Git would break it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, TypeVar, cast

from pydantic import BaseModel

from tools.evidence.log_packing import sanitize
from tools.redaction import redact_data

T = TypeVar("T")

_ATOMIC = (
    bool,
    int,
    float,
    complex,
    Decimal,
    Enum,
    dt.date,
    dt.time,
    dt.timedelta,
    PurePath,
    uuid.UUID,
    bytes,
)
# What `sanitize` removes (control characters, ANSI escapes start with \x1b, bidi and zero-width).
_UNCLEAN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def redact_text(text: str) -> str:
    """One free-text string (a log, a message, an error) sanitised and redacted."""
    return redact_value(text)


def _clean(text: str) -> str:
    return sanitize(text) if _UNCLEAN.search(text) else text


def _named(name: str, value: Any) -> Any:
    """`value` redacted as the value of a field called `name` (its structure and its name)."""
    if value is None or isinstance(value, _ATOMIC):
        return value  # a marker is a string: a number keeps its type (and a name never makes it one)
    if isinstance(value, str):
        return redact_data({name: _clean(value)})[name]
    if isinstance(value, BaseModel) or _is_dataclass_instance(value):
        return redact_value(value)
    if isinstance(value, Mapping | list | tuple):
        plain = _plain(value)
        redacted = redact_data({name: plain})[name]
        return _like(value, redacted)
    return redact_value(value)


def redact_value(value: T) -> T:
    """A redacted copy of `value` of the same type (see the module docstring); `TypeError` when the
    type is one it cannot vouch for."""
    if value is None or isinstance(value, _ATOMIC):
        return value
    if isinstance(value, str):
        return cast(T, redact_data(_clean(value)))
    if isinstance(value, BaseModel):
        changes: dict[str, Any] = {}
        fields = {name: getattr(value, name) for name in type(value).model_fields}
        for name, current in {**fields, **(value.model_extra or {})}.items():
            redacted = _named(name, current)
            if redacted is not current and redacted != current:
                changes[name] = redacted
        return value.model_copy(update=changes) if changes else value
    if _is_dataclass_instance(value):
        updated: Any = None
        for field in dataclasses.fields(value):  # type: ignore[arg-type]
            current = getattr(value, field.name)
            redacted = _named(field.name, current)
            if redacted is not current and redacted != current:
                if updated is None:
                    updated = copy.copy(value)
                object.__setattr__(updated, field.name, redacted)  # frozen dataclasses too
        return cast(T, value if updated is None else updated)
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        if isinstance(value, set | frozenset):
            return cast(T, type(value)(redact_value(item) for item in value))
        return cast(T, _like(value, redact_data(_plain(value))))
    raise TypeError(f"cannot redact a {type(value).__name__}: the tool must answer plain data or models")


def _is_dataclass_instance(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _plain(value: Any) -> Any:
    """JSON-shaped data for `redact_data`: models and dataclasses inside containers redacted first."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, BaseModel) or _is_dataclass_instance(value):
        return _Opaque(redact_value(value))
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, _ATOMIC):
        return value
    raise TypeError(f"cannot redact a {type(value).__name__}: the tool must answer plain data or models")


class _Opaque:
    """An already redacted model inside a container: `redact_data` passes it through untouched."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _like(original: Any, redacted: Any) -> Any:
    """`redacted` (plain data) in the container types of `original`, models put back."""
    if isinstance(redacted, _Opaque):
        return redacted.value
    if isinstance(original, Mapping) and isinstance(redacted, Mapping):
        items = {key: _like(original.get(key), item) for key, item in redacted.items()}
        if isinstance(original, MappingProxyType):
            return MappingProxyType(items)
        return items
    if isinstance(original, list | tuple) and isinstance(redacted, list):
        items_list = [
            _like(original[i] if i < len(original) else None, item) for i, item in enumerate(redacted)
        ]
        if isinstance(original, tuple):
            return type(original)(*items_list) if hasattr(original, "_fields") else tuple(items_list)
        return items_list
    return redacted
