"""The marker that replaces a secret: `«redacted:3f9a1c»`, six hex digits of a keyed hash.

The same value gives the same marker wherever it appears (an env var and the URL that embeds
it correlate; a diff still shows that a value changed), and a different value a different one.

The hash is an HMAC-SHA256 keyed with 32 random bytes, never a plain hash: a plain hash of a
short password could be brute-forced back from its marker. The key is per process by default
(markers correlate within one process's lifetime); `load_or_create_key` gives a per-install key
kept with 0600 permissions under the data directory, so markers also correlate across restarts.
Whoever holds the key can test guesses against a marker, so it is as sensitive as the data dir.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

MARKER_PREFIX = "«redacted:"
MARKER_SUFFIX = "»"
HASH_CHARS = 6
MARKER_PATTERN = re.compile(r"«redacted:[0-9a-f]{6}»")
KEY_BYTES = 32


class MarkerKeyError(OSError):
    """The per-install key file cannot be used (unreadable, wrong size, readable by others)."""


class Marker:
    """Makes markers with one HMAC key (random per instance unless one is given)."""

    def __init__(self, key: bytes | None = None) -> None:
        if key is not None and len(key) < 16:
            raise ValueError("a marker key needs at least 16 bytes")
        self._key = key if key is not None else secrets.token_bytes(KEY_BYTES)

    def __call__(self, value: str) -> str:
        """The marker for `value`."""
        digest = hmac.new(self._key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"{MARKER_PREFIX}{digest[:HASH_CHARS]}{MARKER_SUFFIX}"


def count_markers(text: str) -> int:
    """How many markers `text` holds."""
    return len(MARKER_PATTERN.findall(text)) if MARKER_PREFIX in text else 0


def is_marker(text: str) -> bool:
    """True when `text` is exactly one marker."""
    return MARKER_PATTERN.fullmatch(text) is not None


def load_or_create_key(path: Path) -> bytes:
    """The per-install marker key at `path`, created (32 random bytes, mode 0600) if missing.

    Refuses a key file that others can read: it would let them test password guesses.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(KEY_BYTES))
    try:
        mode = path.stat().st_mode & 0o077
        key = path.read_bytes()
    except OSError as exc:
        raise MarkerKeyError(f"redaction key {path}: {exc.strerror}") from exc
    if mode:
        raise MarkerKeyError(f"redaction key {path} is readable by others: chmod 600 it")
    if len(key) < 16:
        raise MarkerKeyError(f"redaction key {path} is too short ({len(key)} bytes): delete it")
    return key
