"""Redaction: a table of secret shapes that must go, and ordinary lines that must stay intact."""

from __future__ import annotations

import pytest

from tools.evidence.redact import is_secret_key, redact, redact_data

# (id, text, the secret that must not survive, the marker kind expected)
SECRETS = [
    ("password-eq", "login failed: password=hunter2 for user bob", "hunter2", "secret"),
    ("password-colon", "db password: Sup3r-S3cret!", "Sup3r-S3cret!", "secret"),
    ("passwd", "passwd=abc123xyz", "abc123xyz", "secret"),
    ("pwd-conn-string", "Server=db;Database=shop;User Id=sa;Pwd=Tr0ub4dor;", "Tr0ub4dor", "secret"),
    ("password-conn-string", "Server=db;User Id=sa;Password=hunter2;Encrypt=true", "hunter2", "secret"),
    ("env-style", "DB_PASSWORD=correcthorsebattery", "correcthorsebattery", "secret"),
    ("secret-yaml", "  client_secret: 8f2b1c9d0e", "8f2b1c9d0e", "secret"),
    ("secret-colon", "secret: topsecretvalue", "topsecretvalue", "secret"),
    ("json-secret", '{"user": "bob", "password": "p@ss w0rd"}', "p@ss w0rd", "secret"),
    ("json-api-key", '{"api_key": "abcd1234efgh"}', "abcd1234efgh", "secret"),
    ("apiKey-camel", "config apiKey=zz99yy88xx77", "zz99yy88xx77", "secret"),
    ("token-query", "GET /callback?token=9a8b7c6d5e4f&next=/home", "9a8b7c6d5e4f", "secret"),
    ("access-token", "access_token='ya29.a0AfH6SMB'", "ya29.a0AfH6SMB", "secret"),
    (
        "aws-secret",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "secret",
    ),
    ("aws-access-key", "using key AKIAIOSFODNN7EXAMPLE to sign", "AKIAIOSFODNN7EXAMPLE", "aws-key"),
    ("aws-sts-key", "ASIAY34FZKBOKMUTVV7A", "ASIAY34FZKBOKMUTVV7A", "aws-key"),
    (
        "github-pat-classic",
        "push with ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "ghp_0123456789",
        "github-token",
    ),
    (
        "github-pat-fine",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
        "github_pat_11",
        "github-token",
    ),
    ("github-app", "ghs_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", "ghs_ABCDEF", "github-token"),
    ("gitlab", "glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-xxxx", "gitlab-token"),
    ("slack", "xoxb-123456789012-abcdefghijkl", "xoxb-1234", "slack-token"),
    ("stripe", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39", "stripe-key"),
    ("openai", "OPENAI key sk-proj-abcdefghijklmnopqrstuvwxyz123456", "sk-proj-abcdef", "api-key"),
    ("google", "AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-12345", "google-api-key"),
    (
        "jwt",
        "session eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
        "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
        "jwt",
    ),
    ("bearer-header", "Authorization: Bearer abcdef0123456789abcdef", "abcdef0123456789", "credentials"),
    ("basic-header", "authorization: Basic dXNlcjpodW50ZXIy", "dXNlcjpodW50ZXIy", "credentials"),
    ("bearer-bare", "retrying with bearer 0123456789abcdefXYZ", "0123456789abcdefXYZ", "token"),
    ("json-auth-header", '{"Authorization": "Token 5up3r5ecr3t"}', "5up3r5ecr3t", "credentials"),
    ("postgres-url", "connecting to postgres://app:s3cr3t@db.shop:5432/orders", "s3cr3t", "password"),
    ("redis-url", "redis://:r3d1sPass@cache:6379/0", "r3d1sPass", "password"),
    ("https-basic-url", "fetch https://admin:adm1n!@registry.example.com/v2/", "adm1n!", "password"),
    (
        "private-key",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvx1Qmb3F0xyz\nQmFzZTY0Q29udGVudEhlcmUxMjM0\n"
        "-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEAvx1Qmb3F0xyz",
        "private-key",
    ),
    (
        "private-key-truncated",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
        "private-key",
    ),
    (
        "private-key-escaped",
        '{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQ\\n-----END PRIVATE KEY-----\\n"}',
        "MIIEvQIBADANBgkqhkiG9w0BAQ",
        "private-key",
    ),
]

NORMAL = [
    "GET /api/orders 200 12ms",
    "2024-05-01T10:00:00Z INFO starting server on :8080",
    "KeyError: 'DATABASE_URL'",
    "Error: connect ECONNREFUSED 10.0.0.12:5432",
    "password reset requested for user bob@example.com",
    "token bucket refilled, 5 tokens left",
    "max_tokens=1024 temperature=0.2",
    "tokens: 17 remaining",
    "secretName: db-credentials",
    "valueFrom.secretKeyRef.name=db-creds key=password",
    "passwordless login enabled: true",
    "password: null",
    "the key api is deprecated",
    "cache key=users:42 hit",
    "OOMKilled: container exceeded memory limit 256Mi",
    "Readiness probe failed: HTTP probe failed with statuscode: 503",
    "connecting to postgres://db.shop:5432/orders",
    "https://example.com/docs?page=2",
    "commit 3f2a9c1 by alice: bump image to 1.4.2",
    "Authorization header missing",
    "using bearer authentication",
]


@pytest.mark.parametrize(("text", "secret", "kind"), [s[1:] for s in SECRETS], ids=[s[0] for s in SECRETS])
def test_secret_shapes_are_redacted(text: str, secret: str, kind: str) -> None:
    out = redact(text)
    assert secret not in out
    assert f"[REDACTED:{kind}]" in out


@pytest.mark.parametrize("line", NORMAL)
def test_normal_lines_are_left_intact(line: str) -> None:
    assert redact(line) == line


def test_context_around_a_secret_survives() -> None:
    out = redact("login failed: password=hunter2 for user bob")
    assert out == "login failed: password=[REDACTED:secret] for user bob"
    assert redact("postgres://app:s3cr3t@db:5432/x") == "postgres://app:[REDACTED:password]@db:5432/x"


def test_redaction_is_idempotent() -> None:
    for _, text, _, _ in SECRETS:
        once = redact(text)
        assert redact(once) == once


def test_quoted_values_keep_their_quotes() -> None:
    assert redact('{"password": "x y z"}') == '{"password": "[REDACTED:secret]"}'


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("DB_PASSWORD", True),
        ("apiKey", True),
        ("clientSecret", True),
        ("x-api-key", True),
        ("secretName", False),
        ("passwordFile", False),
        ("secretKeyRef", False),
        ("tokens", False),
        ("max_tokens", False),
        ("monkey", False),
        ("name", False),
    ],
)
def test_secret_keys(key: str, secret: bool) -> None:
    assert is_secret_key(key) is secret


def test_redact_data_by_key_and_by_env_name() -> None:
    data = {
        "env": [
            {"name": "DB_PASSWORD", "value": "hunter2"},
            {"name": "PORT", "value": "8080"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
        ],
        "apiKey": "abc",
        "secretName": "db-credentials",
        "note": "url postgres://u:pw123@db/x",
        "nested": [{"password": 1234}, {"token": None}],
    }
    out = redact_data(data)
    assert out["env"][0] == {"name": "DB_PASSWORD", "value": "[REDACTED:secret]"}
    assert out["env"][1] == {"name": "PORT", "value": "8080"}
    assert out["env"][2] == data["env"][2]  # a reference to a secret is not a secret
    assert out["apiKey"] == "[REDACTED:secret]"
    assert out["secretName"] == "db-credentials"
    assert "pw123" not in out["note"]
    assert out["nested"] == [{"password": "[REDACTED:secret]"}, {"token": None}]
    assert data["env"][0]["value"] == "hunter2"  # the input is not modified
