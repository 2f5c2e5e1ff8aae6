"""Redaction of JSON-shaped data: Kubernetes objects, Alertmanager alerts, tool results.

Walks the data and uses what the structure says about a value before its shape:

- a Secret's `data` and `stringData`: every value replaced, the keys kept (a `data` value is
  hashed decoded, so it gets the same marker as the same password seen in an env var);
  `binaryData` of anything likewise;
- an env entry `{"name": "DB_PASSWORD", "value": ...}` (or `{"key": ..., "value": ...}`): the
  value by the entry's name;
- a field whose own name is secret (`password: x`, an annotation `example.com/api-token`);
- `command`/`args`: each item by its shapes, and a secret flag's separate value
  (`["--password", "x"]`, `["curl", "-u", "admin:pw"]`) by the flag;
- any other string by its shapes; a string holding a JSON document
  (`kubectl.kubernetes.io/last-applied-configuration` holds the whole manifest) is parsed,
  redacted the same way and written back, rather than dropped: it is evidence of what was applied.

Key names (`secretKeyRef.key`, `matchExpressions[].key`, `tolerations[].key`) stay, and so does
everything that is not a secret: names, images, numbers, reasons. The input is never modified.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tools.redaction.commands import argv_secret_indexes
from tools.redaction.engine import Redactor
from tools.redaction.names import classify_name

_ARGV_FIELDS = frozenset({"command", "args", "argv", "cmd", "entrypoint"})
_ALWAYS_SECRET_FIELDS = frozenset({"binaryData"})


def _decoded(value: str) -> str:
    """A Secret `data` value decoded from base64 (for a marker that matches the plain value)."""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return value


class StructuredRedactor:
    """`redact_data` over one `Redactor` (one marker key)."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def redact_data(self, value: Any) -> Any:
        """A redacted copy of JSON-shaped `value` (dicts, lists, scalars)."""
        return self._walk(value)

    def _walk(self, value: Any) -> Any:
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, Mapping):
            return self._mapping(value)
        if isinstance(value, list | tuple):
            return [self._walk(item) for item in value]
        return value

    def _string(self, value: str) -> str:
        stripped = value.strip()
        if len(stripped) > 1 and stripped[0] in "{[" and stripped[-1] in "}]":
            try:
                document = json.loads(stripped)
            except ValueError:
                document = None
            if isinstance(document, dict | list):
                redacted = self._walk(document)
                if redacted == document:
                    return value
                return json.dumps(redacted, separators=(",", ":"), ensure_ascii=False) + (
                    "\n" if value.endswith("\n") else ""
                )
        return self._redactor.redact(value)

    def _scalar_by_name(self, name: str, item: Any) -> Any:
        if isinstance(item, bool) or item is None:
            return item
        if isinstance(item, int | float):
            redacted = self._redactor.redact_named(name, str(item))
            return item if redacted == str(item) else redacted
        return self._redactor.redact_named(name, item)

    def _mapping(self, value: Mapping[Any, Any]) -> dict[str, Any]:
        is_secret_object = value.get("kind") == "Secret"
        entry_name = value.get("name") if isinstance(value.get("name"), str) else None
        if entry_name is None and isinstance(value.get("key"), str) and "value" in value:
            entry_name = value["key"]
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = str(raw_key)
            if is_secret_object and key in ("data", "stringData") and isinstance(item, Mapping):
                out[key] = self._secret_values(item, decode=key == "data")
            elif key in _ALWAYS_SECRET_FIELDS and isinstance(item, Mapping):
                out[key] = self._secret_values(item, decode=False)
            elif key == "value" and entry_name is not None and isinstance(item, str | int | float):
                out[key] = self._scalar_by_name(entry_name, item)
            elif isinstance(item, str | int | float) and classify_name(key) is not None:
                out[key] = self._scalar_by_name(key, item)
            elif key in _ARGV_FIELDS and isinstance(item, list) and all(isinstance(a, str) for a in item):
                out[key] = self.redact_argv(item)
            else:
                out[key] = self._walk(item)
        return out

    def _secret_values(self, data: Mapping[Any, Any], *, decode: bool) -> dict[str, Any]:
        replace = self._redactor.replace_whole
        return {
            str(k): replace(_decoded(v) if decode else v) if isinstance(v, str) and v else v
            for k, v in data.items()
        }

    def redact_argv(self, argv: Sequence[str]) -> list[str]:
        """A command line as a list: each item by its shapes, separate flag values by the flag."""
        out = [self._redactor.redact(item) for item in argv]
        for index, span in argv_secret_indexes(argv):
            original = argv[index]
            if span is None:
                out[index] = self._redactor.replace_whole(original)
            else:
                marker = self._redactor.replace_whole(original[span.start : span.end])
                out[index] = original[: span.start] + marker + original[span.end :]
        return out
