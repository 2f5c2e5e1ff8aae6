"""Secret names: what a variable, field, flag, header or annotation name says about its value."""

from __future__ import annotations

import pytest

from tools.redaction import NameClass, classify_name, is_secret_key

SECRET = [
    "password", "DB_PASSWORD", "db-password", "dbPassword", "MYSQL_ROOT_PASSWORD", "PGPASSWORD",
    "passwd", "DB_PWD", "Pwd", "REDIS_PASS", "passphrase", "apiKey", "API_KEY", "x-api-key",
    "CLOUD_KEY", "STRIPE_KEY", "tls.key", "AWS_SECRET_ACCESS_KEY", "clientSecret", "client_secret",
    "API_TOKEN", "accessToken", "refresh_token", "AWS_SESSION_TOKEN", "CLOUD_CREDS", "credentials",
    "GOOGLE_CREDENTIALS", "auth", "BASIC_AUTH", "Authorization", "proxy-authorization", "SENTRY_DSN",
    "ConnectionString", "private_key", "privateKey", "cookie", "session_id", "sessionid",
    "X-Amz-Signature", "sig", "HASH_SALT", "JWT_SECRET", "--password", "--client-secret",
    "example.com/api-token", "vault.hashicorp.com/db-password", "API_TOKENS", "DB_PASSWORD_2",
]  # fmt: skip
NOT_SECRET = [
    "key", "keys", "name", "secretName", "secretKeyRef", "configMapKeyRef", "passwordFile",
    "PASSWORD_FILE", "TOKEN_URL", "token_type", "TOKEN_TTL", "tokens", "max_tokens", "input_tokens",
    "cache_key", "sort_key", "routing_key", "idempotency_key", "public_key", "partition_key",
    "groupKey", "keyboard", "monkey", "hotkey", "passwordless", "AUTH_URL", "AUTH_ENABLED",
    "CLIENT_ID", "AWS_ACCESS_KEY_ID", "COOKIE_DOMAIN", "SESSION_TIMEOUT", "JWT_ISSUER",
    "signature_version", "private", "tokenizer", "author", "has_password", "PASSWORD_MIN_LENGTH",
    "kubernetes.io/service-account.name", "imagePullSecrets", "secretRef", "keyRef", "",
]  # fmt: skip


@pytest.mark.parametrize("name", SECRET)
def test_secret_names(name: str) -> None:
    assert is_secret_key(name), name


@pytest.mark.parametrize("name", NOT_SECRET)
def test_names_that_hold_no_secret(name: str) -> None:
    assert not is_secret_key(name), name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("DB_PASSWORD", NameClass.PASSWORD),
        ("API_TOKEN", NameClass.SECRET),
        ("SENTRY_DSN", NameClass.CONTAINER),
        ("AZURE_STORAGE_CONNECTION_STRING", NameClass.CONTAINER),
        ("CLOUD_KEY", NameClass.KEY),
        ("apiKey", NameClass.SECRET),
    ],
)
def test_name_classes_decide_how_values_are_read(name: str, kind: NameClass) -> None:
    assert classify_name(name) is kind
