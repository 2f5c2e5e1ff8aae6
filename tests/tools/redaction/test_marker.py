"""Markers: stable per value, different per value, keyed (not a plain hash), and the key file."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from tools.redaction import (
    MARKER_PATTERN,
    Marker,
    MarkerKeyError,
    count_markers,
    is_marker,
    load_or_create_key,
)
from tools.redaction.engine import Redactor


def test_equal_values_correlate_and_different_values_do_not() -> None:
    marker = Marker(b"k" * 32)
    assert marker("hunter2") == marker("hunter2")
    assert marker("hunter2") != marker("hunter3")
    assert is_marker(marker("hunter2")) and MARKER_PATTERN.fullmatch(marker("x"))


def test_the_hash_is_keyed_so_a_marker_cannot_be_looked_up() -> None:
    plain = hashlib.sha256(b"hunter2").hexdigest()[:6]
    assert Marker(b"a" * 32)("hunter2") != Marker(b"b" * 32)("hunter2")
    assert plain not in Marker(b"a" * 32)("hunter2")
    assert Marker()("hunter2") != Marker()("hunter2"), "each default marker has its own random key"
    with pytest.raises(ValueError):
        Marker(b"short")


def test_one_redactor_gives_one_secret_one_marker_everywhere() -> None:
    redactor = Redactor(Marker(b"k" * 32))
    env = redactor.redact("DB_PASSWORD=Sh4redPw")
    url = redactor.redact("postgres://app:Sh4redPw@db/shop")
    [mark] = MARKER_PATTERN.findall(env)
    assert mark in url
    assert count_markers(env + url) == 2 and count_markers("nothing here") == 0


def test_the_install_key_is_created_private_and_reused(tmp_path) -> None:
    path = tmp_path / "redaction.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key


def test_a_key_others_can_read_is_refused(tmp_path) -> None:
    path = tmp_path / "redaction.key"
    load_or_create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(MarkerKeyError, match="readable by others"):
        load_or_create_key(path)
    path.write_bytes(b"x")
    os.chmod(path, 0o600)
    with pytest.raises(MarkerKeyError, match="too short"):
        load_or_create_key(path)
