"""Protobuf request bodies: the wire reader and the schema-driven decoder (no kubectl needed)."""

from __future__ import annotations

import pytest

from sandbox.apiserver.protobuf import DecodeError, decode_object


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return b"k8s\x00" + field(1, type_meta) + field(2, raw) + field(3, "") + field(4, "")


def meta(name: str, **labels: str) -> bytes:
    body = field(1, name) + field(2, "") + field(7, 0) + field(8, b"")
    for k, v in labels.items():
        body += field(11, field(1, k) + field(2, v))
    return body


def test_a_configmap_and_a_secret_decode_like_their_json() -> None:
    cm = field(1, meta("app")) + field(2, field(1, "MODE") + field(2, "prod"))
    assert decode_object(envelope("v1", "ConfigMap", cm)) == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "app"},
        "data": {"MODE": "prod"},
    }
    secret = field(1, meta("db")) + field(2, field(1, "password") + field(2, b"s3cret")) + field(3, "Opaque")
    decoded = decode_object(envelope("v1", "Secret", secret))
    assert decoded["data"] == {"password": "czNjcmV0"} and decoded["type"] == "Opaque"


def test_pointer_zero_is_kept_and_go_zero_scalars_are_dropped() -> None:
    container = field(1, "web") + field(2, "nginx") + field(5, "") + field(16, 0)
    template = field(2, field(2, container) + field(3, "") + field(11, 0))
    spec = field(1, 0) + field(3, field(1, meta("", app="web")) + template) + field(5, 0)
    obj = decode_object(envelope("apps/v1", "Deployment", field(1, meta("web")) + field(2, spec)))
    assert obj["spec"]["replicas"] == 0  # *int32: zero means zero replicas
    assert obj["spec"]["template"]["spec"]["containers"] == [{"name": "web", "image": "nginx"}]
    assert "minReadySeconds" not in obj["spec"] and "hostNetwork" not in obj["spec"]["template"]["spec"]


def test_int_or_string_negative_numbers_and_repeated_empty_strings() -> None:
    port = field(1, "http") + field(3, 80) + field(4, field(1, 1) + field(3, "web"))
    svc = field(1, meta("s")) + field(2, field(1, port))
    assert decode_object(envelope("v1", "Service", svc))["spec"]["ports"] == [
        {"name": "http", "port": 80, "targetPort": "web"}
    ]
    rule = field(1, "get") + field(2, "") + field(3, "pods")
    role = decode_object(
        envelope("rbac.authorization.k8s.io/v1", "Role", field(1, meta("r")) + field(2, rule))
    )
    assert role["rules"] == [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]
    job_spec = field(7, -1) + field(6, field(2, field(2, field(1, "j") + field(2, "busybox"))))
    job = decode_object(envelope("batch/v1", "Job", field(1, meta("j")) + field(2, job_spec)))
    assert job["spec"]["backoffLimit"] == -1


def test_an_empty_dir_volume_survives_being_empty() -> None:
    volume = field(1, "scratch") + field(2, field(2, b""))  # VolumeSource (inline) with emptyDir {}
    pod_spec = field(1, volume) + field(2, field(1, "c") + field(2, "busybox"))
    job = decode_object(
        envelope("batch/v1", "Job", field(1, meta("j")) + field(2, field(6, field(2, pod_spec))))
    )
    assert job["spec"]["template"]["spec"]["volumes"] == [{"name": "scratch", "emptyDir": {}}]


def test_bad_bodies_are_refused_with_the_reason() -> None:
    with pytest.raises(DecodeError, match="magic"):
        decode_object(b'{"kind": "ConfigMap"}')
    with pytest.raises(DecodeError, match="does not decode Widget"):
        decode_object(envelope("example.com/v1", "Widget", b""))
    with pytest.raises(DecodeError, match="field 99 of ConfigMap"):
        decode_object(envelope("v1", "ConfigMap", field(1, meta("x")) + field(99, "surprise")))
    with pytest.raises(DecodeError, match="truncated"):
        decode_object(b"k8s\x00" + varint(1 << 3 | 2) + varint(50) + b"short")
