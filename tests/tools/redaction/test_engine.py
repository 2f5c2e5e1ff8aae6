"""The engine as a whole: overlapping finds joined, odd input survived, redacting twice is a no-op."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.redaction import MARKER_PATTERN, findings, redact, redact_named

_PIECES = st.sampled_from(
    [*"abcXYZ0129 =:/@-_.\"'\n\t;,&?{}[]()|$«»", "password", "token", "AKIA", "Bearer ", "://", "api_key",
     "-----BEGIN PRIVATE KEY-----", "eyJ", "«redacted:abcdef»", "ghp_", "secret", "-u ", "--password ",
     "name: DB_PASSWORD\n", "value: ", "kind: Secret\n", "data:\n"]
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_redacts_without_error_and_twice_is_once(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_unicode_never_breaks_redaction(text: str) -> None:
    assert isinstance(redact(text), str)


def test_overlapping_finds_become_one_marker() -> None:
    # The URL detector and the name detector both claim parts of this value.
    text = "DATABASE_PASSWORD=postgres://app:Pw1@db/x"
    out = redact(text)
    assert "Pw1" not in out and out.count("«redacted:") == 1
    spans = findings(text)
    assert spans == sorted(spans) and all(a.end < b.start for a, b in pairwise(spans))


def test_text_without_secrets_comes_back_identical() -> None:
    text = "2024-05-01T10:00:00Z INFO GET /api/orders 200 12ms pod=web-7d9f8b6c5d-x2x9z"
    assert redact(text) == text
    assert redact("") == ""


def test_a_named_value_is_read_by_its_name_first() -> None:
    assert MARKER_PATTERN.fullmatch(redact_named("CLOUD_CREDS", "plain-looking-value"))
    assert redact_named("LOG_LEVEL", "debug") == "debug"
    assert redact_named("DB_PASSWORD", "${DB_PASSWORD}") == "${DB_PASSWORD}"
    assert redact_named("NOTES", "password=hunter2").startswith("password=«redacted:")
