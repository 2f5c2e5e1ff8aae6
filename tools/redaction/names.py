"""Which names say their value is a secret: env vars, keys, flags, headers, annotations, fields.

A name is split into lowercase word parts (`DB_PASSWORD`, `db-password`, `dbPassword`,
`x-api-key`, `tls.key` → `db password`, `x api key`, `tls key`) and judged by its parts:

- a *strong* part (password, passwd, pwd, pass, passphrase, secret, token, credential(s),
  creds, dsn, auth, authorization, cookie, signature, salt, jwt, bearer, or a compound ending
  in one of them: `dbpassword`, `clientsecret`, `accesstoken`, `apikey`) makes it secret;
- `key` counts only as the last part and qualified (`API_KEY`, `CLOUD_KEY`, `tls.key`), never
  alone and never with a non-secret qualifier, and its value must not be a plain identifier
  (`EXTRAS_KEY = "metrics"` names a dictionary key): in Kubernetes `key` is mostly a *name*
  (`secretKeyRef.key`, `configMapKeyRef.key`, `matchExpressions[].key`, `tolerations[].key`),
  and `cache_key`, `sort_key`, `routing_key`, `public_key`, `idempotency_key` hold no secret;
- `session` counts with id/key/token/cookie; `private` with key;
- a last part that says the value is *about* a secret rather than the secret makes it not
  secret: `SECRET_NAME`, `secretKeyRef`, `TOKEN_FILE`, `PASSWORD_PATH`, `TOKEN_TTL`,
  `AUTH_URL`, `CLIENT_ID`, `COOKIE_DOMAIN`, `passwordless`.

Annotation and label keys are judged by their name after the DNS prefix
(`vault.example.com/db-password` → `db-password`).
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache


class NameClass(Enum):
    """How a secret name treats its value."""

    PASSWORD = "password"  # any non-placeholder value, numbers included, is a secret
    SECRET = "secret"  # the value is a secret unless it is a number, placeholder or path
    CONTAINER = "container"  # a DSN / connection string: redact inside it when possible
    KEY = "key"  # `API_KEY`, `CLOUD_KEY`: secret unless the value is a plain identifier word


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^a-z0-9]+")

_PASSWORD_PARTS = frozenset({"password", "passwd", "pwd", "pass", "pw", "passphrase", "pin"})
_PASSWORD_SUFFIXES = ("password", "passwd", "passphrase")
_STRONG_PARTS = frozenset(
    {
        "secret", "token", "credential", "credentials", "creds", "cred", "auth",
        "authorization", "cookie", "signature", "sig", "salt", "jwt", "bearer", "apikey",
        "privkey", "privatekey", "sessionid", "sessid", "otp", "totp", "hmac", "psk",
    }
)  # fmt: skip
# Compound single parts: `clientsecret`, `accesstoken`, `xsrftoken`, `dbpassword`, `apikey`.
_STRONG_SUFFIXES = ("secret", "token", "credential", "credentials", "creds", "apikey", "privatekey")
_KEY_COMPOUNDS = frozenset(
    {
        "apikey", "accesskey", "secretkey", "privatekey", "privkey", "authkey", "masterkey",
        "signingkey", "encryptionkey", "clientkey", "servicekey", "accountkey", "licensekey",
        "sshkey", "hmackey", "appkey", "adminkey", "rootkey", "sessionkey", "webhookkey", "cryptkey",
    }
)  # fmt: skip
_CONTAINER_PARTS = frozenset({"dsn", "connectionstring", "connstr", "connstring"})
# `key` with one of these before it names an index, a lookup or public material, not a secret.
_NOT_SECRET_KEY_QUALIFIERS = frozenset(
    {
        "cache", "partition", "sort", "primary", "foreign", "routing", "idempotency", "object",
        "public", "pub", "hash", "range", "row", "shard", "group", "label", "node", "map", "lookup",
        "match", "unique", "composite", "dedup", "dedupe", "i18n", "translation", "message", "msg",
        "index", "s3", "bucket", "configmap", "annotation", "metric", "hot", "search", "dict",
        "field", "item", "distribution", "dist", "topic", "stream", "state", "request", "trace",
    }
)  # fmt: skip
# A last part that describes the secret (where it is, how long it lives) instead of holding it.
_REFERENCE_SUFFIXES = frozenset(
    {
        "account", "addr", "address", "age", "alg", "algorithm", "annotation", "annotations", "arn",
        "attempts", "audience", "backend", "bucket", "cache", "charset", "check", "checks", "checksum",
        "class", "complexity", "count", "days", "desc", "description", "digest", "dir", "directory",
        "disable", "disabled", "domain", "duration", "email", "enable", "enabled", "encoding",
        "endpoint", "endpoints", "env", "expiration", "expire", "expires", "expiresat", "expiresin",
        "expiry", "field", "fields", "file", "filename", "files", "fingerprint", "format",
        "generation", "hashed", "header", "headers", "help", "hint", "host", "hostname", "hours",
        "httponly", "id", "ids", "index", "interval", "issuer", "keyref", "keys", "kid", "kind",
        "label", "labels", "len", "length", "less", "level", "lifetime", "limit", "limits", "list",
        "location", "login", "manager", "mapping", "max", "metadata", "method", "methods", "min",
        "minutes", "mode", "mount", "mountpath", "name", "names", "namespace", "number", "optional",
        "path", "paths", "pattern", "period", "policy", "port", "prefix", "project", "provider",
        "providers", "rate", "realm", "ref", "refresh", "refs", "regex", "region", "required", "reset",
        "retries", "role", "rotate", "rotation", "samesite", "scheme", "scope", "scopes", "seconds",
        "secure", "selector", "server", "service", "sha", "size", "source", "state", "status", "store",
        "strategy", "strength", "suffix", "template", "thumbprint", "timeout", "ttl", "ttlseconds",
        "type", "uri", "url", "urls", "user", "username", "validation", "validity", "var", "variable",
        "variables", "vault", "verification", "verify", "version", "volume", "window",
    }
)  # fmt: skip
# Whole names that hold no secret although a part would say so. (`PWD`, the working directory,
# is a password in connection strings: its path value is kept by `values.is_path`.)
_NOT_SECRET_NAMES = frozenset({"key", "keys", "tokens", "secretname"})
# `tokens` after one of these counts model or rate-limit tokens (`max_tokens`), not credentials.
_COUNTED_TOKENS = frozenset(
    {"max", "min", "num", "total", "input", "output", "prompt", "completion", "remaining", "used", "bucket"}
)


def _parts(name: str) -> list[str]:
    # An annotation/label key's DNS prefix says who owns it, not what it holds.
    if "/" in name:
        name = name.rsplit("/", 1)[-1]
    spaced = _CAMEL.sub("_", name.strip().strip("-").strip("\"'"))
    parts = [part for part in _SPLIT.split(spaced.lower()) if part]
    while parts and parts[-1].isdigit():  # DB_PASSWORD_2 is DB_PASSWORD
        parts.pop()
    return parts


def _is_session_id(parts: list[str]) -> bool:
    return len(parts) >= 2 and parts[-2] in ("session", "sess") and parts[-1] in ("id", "key", "token")


def _key_part_is_secret(parts: list[str]) -> bool:
    if parts[-1] != "key" or len(parts) < 2:
        return False
    return parts[-2] not in _NOT_SECRET_KEY_QUALIFIERS


def _password_part(part: str) -> bool:
    return part in _PASSWORD_PARTS or part.endswith(_PASSWORD_SUFFIXES) or (
        part.endswith("pwd") and part != "oldpwd"
    )


@lru_cache(maxsize=4096)
def classify_name(name: str) -> NameClass | None:
    """How `name` treats its value: a `NameClass`, or None when the name says nothing secret."""
    parts = _parts(name)
    if not parts or "".join(parts) in _NOT_SECRET_NAMES or "_".join(parts) in _NOT_SECRET_NAMES:
        return None
    if _is_session_id(parts):
        return NameClass.SECRET
    if parts[-1] in _REFERENCE_SUFFIXES or parts[0] in ("is", "has", "use", "no", "require", "allow"):
        return None
    if any(part in _CONTAINER_PARTS for part in parts) or parts[-2:] in (["connection", "string"],):
        return NameClass.CONTAINER
    if any(_password_part(part) for part in parts):
        return NameClass.PASSWORD
    if any(part in _STRONG_PARTS or part.endswith(_STRONG_SUFFIXES) for part in parts):
        return NameClass.SECRET
    if "tokens" in parts and not _COUNTED_TOKENS.intersection(parts):
        return NameClass.SECRET
    if parts[-1] in _KEY_COMPOUNDS or "".join(parts[-2:]) in _KEY_COMPOUNDS:
        return NameClass.SECRET
    if _key_part_is_secret(parts):
        return NameClass.KEY
    return None


def is_secret_key(name: str) -> bool:
    """True when a variable, field, flag, header or annotation name says its value is a secret.

    `DB_PASSWORD`, `apiKey`, `CLOUD_CREDS`, `x-api-key`, `tls.key`, `--token`: True.
    `secretName`, `secretKeyRef`, `key`, `cache_key`, `max_tokens`, `PWD`, `keyboard`: False.
    """
    return classify_name(name) is not None
