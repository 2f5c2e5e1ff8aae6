"""Kubernetes protobuf request bodies to JSON-shaped objects.

A body is `k8s\\x00` + a `runtime.Unknown` (typeMeta{apiVersion, kind}, raw, contentEncoding,
contentType); `raw` is the object's message, decoded with the field numbers in `schema.py`.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from sandbox.apiserver.protobuf.schema import MESSAGES, FieldSpec
from sandbox.apiserver.protobuf.wire import BYTES, VARINT, WireError, parse, signed

MAGIC = b"k8s\x00"
Obj = dict[str, Any]


class DecodeError(ValueError):
    """A body the sandbox cannot turn into an object (says which message and field)."""


def decode_object(raw: bytes) -> Obj:
    """The object a protobuf-encoded request body carries, as JSON would have it."""
    if not raw.startswith(MAGIC):
        raise DecodeError("the body does not start with the Kubernetes protobuf magic number")
    try:
        envelope = {n: v for n, _, v in parse(raw[len(MAGIC) :])}
        type_meta = {n: v for n, _, v in parse(_bytes(envelope.get(1, b"")))}
    except WireError as exc:
        raise DecodeError(f"malformed protobuf envelope: {exc}") from None
    api_version = _bytes(type_meta.get(1, b"")).decode()
    kind = _bytes(type_meta.get(2, b"")).decode()
    encoding = _bytes(envelope.get(3, b"")).decode()
    if encoding:
        raise DecodeError(f"unsupported content encoding {encoding!r}")
    if kind not in MESSAGES:
        raise DecodeError(
            f"the sandbox does not decode {kind or 'this kind'} sent as protobuf; send it as JSON"
        )
    obj = _message(kind, _bytes(envelope.get(2, b"")))
    return {"apiVersion": api_version, "kind": kind, **obj}


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise DecodeError("expected a length-delimited field")
    return value


def _message(name: str, data: bytes) -> Obj:
    fields = MESSAGES[name]
    out: Obj = {}
    try:
        parsed = parse(data)
    except WireError as exc:
        raise DecodeError(f"malformed {name}: {exc}") from None
    for number, wire, value in parsed:
        spec = fields.get(number)
        if spec is None:
            if value in (0, b""):
                continue  # Go writes every non-pointer scalar, set or not
            raise DecodeError(f"the sandbox cannot decode field {number} of {name} sent as protobuf")
        if spec.type == "_":
            continue
        _put(out, spec, _value(name, spec, wire, value))
    return out


def _put(out: Obj, spec: FieldSpec, value: Any) -> None:
    if spec.inline:
        out.update(value)
        return
    if spec.type.startswith("{"):
        out.setdefault(spec.name, {}).update(value)
        return
    if spec.repeated:
        out.setdefault(spec.name, []).append(value)
        return
    empty = value in ("", 0, False, None) or value == {}
    if empty and not (spec.pointer and value is not None) and not (spec.keep_empty and value == {}):
        return
    out[spec.name] = value


def _value(parent: str, spec: FieldSpec, wire: int, value: int | bytes) -> Any:
    kind = spec.type
    where = f"{parent}.{spec.name}"
    if kind in ("i32", "i64", "b"):
        if wire != VARINT or not isinstance(value, int):
            raise DecodeError(f"{where}: expected a varint")
        return bool(value) if kind == "b" else signed(value)
    if wire != BYTES or not isinstance(value, bytes):
        raise DecodeError(f"{where}: expected a length-delimited field")
    if kind == "s":
        return value.decode()
    if kind == "by":
        return base64.b64encode(value).decode()
    if kind == "q":
        return _scalar_fields(value).get(1, b"").decode()
    if kind == "ios":
        f = _scalar_fields(value)
        return _bytes(f.get(3, b"")).decode() if f.get(1) == 1 else signed(int(f.get(2, 0)))
    if kind == "t":
        f = _scalar_fields(value)
        if not f.get(1):
            return None
        return datetime.fromtimestamp(signed(int(f[1])), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if kind.startswith("{"):
        entry = _scalar_fields(value)
        key = _bytes(entry.get(1, b"")).decode()
        raw = _bytes(entry.get(2, b""))
        inner = kind[1:-1]
        item: Any = (
            raw.decode()
            if inner == "s"
            else base64.b64encode(raw).decode()
            if inner == "by"
            else _scalar_fields(raw).get(1, b"").decode()
        )
        return {key: item}
    return _message(kind, value)


def _scalar_fields(data: bytes) -> dict[int, Any]:
    try:
        return {n: v for n, _, v in parse(data)}
    except WireError as exc:
        raise DecodeError(f"malformed field: {exc}") from None
