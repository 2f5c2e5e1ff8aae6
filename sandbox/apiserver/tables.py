"""Server-side printing: the `meta.k8s.io/v1 Table` kubectl asks for (columns per kind in `printers/`,
CRD printer columns from their additionalPrinterColumns)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson

from sandbox.apiserver.printers import GENERIC, PRINTERS, age
from sandbox.apiserver.printers.common import Row, col
from sandbox.store import ResourceType


def _json_path(obj: Any, path: str) -> Any:
    """Follow a CRD printer column's simple JSONPath (`.status.sync.status`, `.spec.items[0].name`)."""
    value = obj
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path.strip().strip("{}")):
        if part.startswith("["):
            index = int(part[1:-1])
            value = value[index] if isinstance(value, list) and index < len(value) else None
        else:
            value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            return None
    return value


def _custom_cell(kind: str, value: Any, now: datetime) -> Any:
    # How apiextensions-apiserver renders a printer column's value for its declared type.
    if value is None:
        return None
    if kind == "date":
        return age(value, now) if isinstance(value, str) else "<invalid>"
    if kind == "integer":
        return value if isinstance(value, int) else None
    if kind == "number":
        return value if isinstance(value, int | float) else None
    if kind == "boolean":
        return value if isinstance(value, bool) else None
    return value if isinstance(value, str) else orjson.dumps(value).decode()


def custom_printer(
    printer_columns: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], Callable[[dict[str, Any], datetime], Row]]:
    """Columns and row function for a CRD version's additionalPrinterColumns (NAME comes first)."""
    columns = [col("Name", fmt="name")] + [
        {
            "name": c.get("name", ""),
            "type": c.get("type", "string"),
            "format": c.get("format", ""),
            "description": c.get("description", ""),
            "priority": int(c.get("priority", 0)),
        }
        for c in printer_columns
    ]

    def row(obj: dict[str, Any], now: datetime) -> Row:
        return [obj["metadata"]["name"]] + [
            _custom_cell(c.get("type", "string"), _json_path(obj, c.get("jsonPath", "")), now)
            for c in printer_columns
        ]

    return columns, row


def partial_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """`PartialObjectMetadata`, what a Table row carries by default."""
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def to_table(
    rt: ResourceType,
    items: list[dict[str, Any]],
    resource_version: str,
    now: datetime,
    include: str = "Metadata",
    printer_columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A Table of `items` with the columns kubectl shows for this resource.

    `printer_columns` are a custom resource's additionalPrinterColumns, from its CRD.
    """
    if printer_columns:
        columns, row = custom_printer(printer_columns)
    else:
        columns, row = PRINTERS.get(rt.key, GENERIC)
    rows = []
    for obj in items:
        entry: dict[str, Any] = {"cells": row(obj, now)}
        if include == "Object":
            entry["object"] = obj
        elif include != "None":
            entry["object"] = partial_metadata(obj)
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    }
