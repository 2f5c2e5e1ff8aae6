"""Each detector on its own: which span it reports (only the value) and under which kind."""

from __future__ import annotations

import pytest

from tools.redaction.commands import argv_secret_indexes, command_spans
from tools.redaction.entropy import entropy_spans, looks_random
from tools.redaction.pairs import pair_spans
from tools.redaction.spans import Span, merge
from tools.redaction.syntax import cookie_spans, header_spans, private_key_spans, url_userinfo_spans
from tools.redaction.tokens import token_spans


def _found(spans, text: str) -> list[tuple[str, str]]:
    return [(text[s.start : s.end], s.kind) for s in merge(spans)]


def _no_inner(_: str) -> list[Span]:
    return []


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        ("AKIAJHYYXWU9NWHP5WD5", "aws-access-key-id"),
        ("ghp_sQBea5xnr7a1ru54K0wLHOc7ONH2sFNAwec2", "github-token"),
        ("github_pat_11QWOHWF0LUBZ2DBL52FM5_i5PrOFi62Fvm", "github-token"),
        ("glpat-4tKrlRKYxt9xTcELlH1y", "gitlab-token"),
        ("xoxb-119490140100-3837962326831-Fzj3mf85k6JUbv7HtJpHmkeJ", "slack-token"),
        ("sk_live_lnU9MESs56TX4LqHIbBc7PUE", "stripe-key"),
        ("sk-h3Gf0NPypynr7gi1pdR3C6MZ2i62bUk1QDDAbsogRT8MQfkL", "api-key"),
        ("AIzabXPbKiq3WyspeP4jORR8AfjjSxUrVfOwsSX", "google-api-key"),
        ("hvs.C5AcgQgXUwrntOcbdAMRHwd0", "vault-token"),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl", "jwt"),
    ],
)
def test_token_formats(secret: str, kind: str) -> None:
    text = f"seen {secret} in a log"
    assert _found(token_spans(text), text) == [(secret, kind)]


def test_a_token_inside_a_longer_run_is_taken_whole() -> None:
    text = "ghp_sQBea5xnr7a1ru54K0wLHOc7ONH2sFNAwec2EXTRA9 next"
    [(found, _)] = _found(token_spans(text), text)
    assert found == "ghp_sQBea5xnr7a1ru54K0wLHOc7ONH2sFNAwec2EXTRA9"


def test_aws_secret_next_to_its_key_id() -> None:
    text = "AKIAJHYYXWU9NWHP5WD5:D915DSSB91Q8c8ATH7j8GeNtbLyYP/yIvgodHrHh"
    assert _found(token_spans(text), text) == [
        ("AKIAJHYYXWU9NWHP5WD5", "aws-access-key-id"),
        ("D915DSSB91Q8c8ATH7j8GeNtbLyYP/yIvgodHrHh", "aws-secret-key"),
    ]


def test_url_userinfo_keeps_everything_but_the_password() -> None:
    text = "mongodb+srv://svc:Qx7pL2@cluster0.mongodb.net/orders and ssh://git@github.com/a.git"
    assert _found(url_userinfo_spans(text), text) == [("Qx7pL2", "url-password")]
    dsn = "https://4f2b8c9d1e7a4b3c9d0e1f2a3b4c5d6e@o1.ingest.sentry.io/5"
    assert _found(url_userinfo_spans(dsn), dsn) == [("4f2b8c9d1e7a4b3c9d0e1f2a3b4c5d6e", "url-token")]
    assert _found(url_userinfo_spans("postgres://app@db:5432/shop"), "") == []


def test_authorization_headers_keep_the_scheme() -> None:
    text = "Authorization: Bearer abc123def456ghi789"
    assert _found(header_spans(text), text) == [("abc123def456ghi789", "authorization")]
    assert _found(header_spans("Authorization header missing"), "") == []
    assert _found(header_spans("WWW-Authenticate: Bearer realm=api"), "") == []
    basic = "retry with Basic YWRtaW46aHVudGVyMg=="
    assert _found(header_spans(basic), basic) == [("YWRtaW46aHVudGVyMg==", "basic-auth")]


def test_cookies_lose_values_not_names_or_attributes() -> None:
    text = "Set-Cookie: sid=abc123; Path=/; HttpOnly\nCookie: a=1x2y3z; theme=dark"
    assert [found for found, _ in _found(cookie_spans(text), text)] == ["abc123", "1x2y3z", "dark"]


def test_private_key_body_goes_and_its_frame_stays() -> None:
    text = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yBy\n-----END EC PRIVATE KEY-----"
    [(body, kind)] = _found(private_key_spans(text), text)
    assert kind == "private-key" and body.strip() == "MHcCAQEEIBkg4LVWM9nuwNSk3yBy"
    truncated = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5v\n"
    assert "b3BlbnNzaC1rZXktdjEAAAAABG5v" in _found(private_key_spans(truncated), truncated)[0][0]
    assert _found(private_key_spans("-----BEGIN CERTIFICATE-----\nMIIB\n"), "") == []


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("curl -u admin:Adm1n! https://x", "Adm1n!"),
        ("curl --user=deploy:d3pl0y https://x", "d3pl0y"),
        ("app --client-secret s3cr3tV4l --port 80", "s3cr3tV4l"),
        ("app --api-key='k 1 2'", "k 1 2"),
        ("mysql -u root -pS3cret shop", "S3cret"),
        ("redis-cli -h cache -a R3dis ping", "R3dis"),
        ("sshpass -p Pw0rd ssh host", "Pw0rd"),
    ],
)
def test_command_line_flags(text: str, secret: str) -> None:
    assert [found for found, _ in _found(command_spans(text), text)] == [secret]


@pytest.mark.parametrize(
    "text",
    ["docker run -u 1000:1000 alpine", "ps -u root", "app --password-file /run/pw", "app --token-ttl 1h",
     "mysql -p shop", "app --password $DB_PASSWORD", "sort -u names.txt"],
)  # fmt: skip
def test_flags_that_carry_no_secret(text: str) -> None:
    assert _found(command_spans(text), text) == []


def test_argv_lists_know_which_item_is_a_flag_value() -> None:
    argv = ["curl", "-u", "probe:Pw1", "--token", "t0k3n", "--password-file", "/pw", "http://x"]
    found = {index: span for index, span in argv_secret_indexes(argv)}
    assert set(found) == {2, 4}
    assert found[4] is None and argv[2][found[2].start : found[2].end] == "Pw1"
    assert dict(argv_secret_indexes(["mysql", "-u", "root", "-pS3cret"])) == {3: Span(2, 8, "flag")}


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("password=hunter2 user=bob", ["hunter2"]),
        ('{"api_key": "abcd1234", "path": "/x"}', ["abcd1234"]),
        ("  DB_PASSWORD: my pass phrase", ["my pass phrase"]),
        ("- name: API_TOKEN\n  value: t0k3nV4l\n", ["t0k3nV4l"]),
        ('{\\"name\\":\\"DB_PASSWORD\\",\\"value\\":\\"Esc4ped\\"}', ["Esc4ped"]),
        ("env: [{name: SMTP_PASSWORD, value: fl0wPw}]", ["fl0wPw"]),
        ("Server=db;Password=Adm1n;Encrypt=true", ["Adm1n"]),
        ("the password is hunter2.", ["hunter2"]),
        ("key: |\n  line1secret\n  line2secret\nnext: 1", []),
        ("tls.key: |\n  line1secret\n  line2secret\nnext: 1", ["  line1secret\n  line2secret\n"]),
    ],
)
def test_names_point_at_values(text: str, secrets: list[str]) -> None:
    assert [found for found, _ in _found(pair_spans(text, _no_inner), text)] == secrets


@pytest.mark.parametrize(
    "text",
    ["password: null", "DB_PASSWORD=${DB_PASSWORD}", "API_TOKEN=$(API_TOKEN)", "max_tokens=1024",
     "secretName: db", "key: app", "TOKEN_FILE=/run/t", "token: expired", "EXTRAS_KEY = 'metrics'",
     "failed to refresh token: context deadline exceeded", "passwordless: true",
     "API_KEY: <set to the key 'k' in secret 's'>"],
)  # fmt: skip
def test_names_with_values_that_are_no_secret(text: str) -> None:
    assert _found(pair_spans(text, _no_inner), text) == []


def test_a_container_value_is_redacted_inside_when_something_is_found_there() -> None:
    text = "SENTRY_DSN=https://abc@o1.ingest.sentry.io/5"
    inner = lambda value: [Span(value.index("abc"), value.index("abc") + 3, "url-token")]  # noqa: E731
    assert _found(pair_spans(text, inner), text) == [("abc", "url-token")]


@pytest.mark.parametrize(
    "token",
    ["9b5piWo7AXchUN4c17flcIKy6p3sSgSi", "HiNUSsjjwCwx0z1uZd-2rt9PvxBEL1gBE5QIsxYYMUA",
     "D915DSSB91Q8c8ATH7j8GeNtbLyYP/yIvgodHrHh"],
)  # fmt: skip
def test_random_strings_look_random(token: str) -> None:
    assert looks_random(token)


@pytest.mark.parametrize(
    "token",
    ["AbstractAutowireCapableBeanFactory", "HTTP2ServerConnectionHandler", "getUserByIdAndTenantId",
     "5dff210623f32ac07d42be029ac6a65cdd608163", "payments-api-7d9f8b6c5d-x2x9z",
     "3f2a9c1e-0b7d-4a5f-9e8c-9d0b1a2f3e4d", "01HZY3K8J6Q9RWXT2N5M7B4CDE", "short1A"],
)  # fmt: skip
def test_identifiers_hashes_and_names_do_not(token: str) -> None:
    assert not looks_random(token)


def test_entropy_keeps_base64_of_plain_text_but_not_of_credentials() -> None:
    benign = "SGVsbG8gd29ybGQgZnJvbSB0aGUgc2hvcCBmcm9udGVuZA=="  # "Hello world from the shop frontend"
    assert list(entropy_spans(benign, lambda _: False)) == []
    creds = "YWRtaW46czNjcjN0LXBhc3N3b3JkLTIwMjQ="  # "admin:s3cr3t-password-2024"
    assert [s.kind for s in entropy_spans(creds, lambda _: False)] == ["high-entropy"]
    slack = "https://hooks.slack.com/services/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"
    found = _found(entropy_spans(slack, lambda _: False), slack)
    assert found == [("hKIVq1nVIAWsHasmDrMy6WfK", "high-entropy")], "the Slack ids before it stay"
