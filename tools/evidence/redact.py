"""Secret redaction for anything that may reach a model or a human-facing report.

Text is scanned for secret *shapes* (private key blocks, credentials in URLs, Authorization
headers, bearer tokens, JWTs, cloud and forge tokens, `password=...`-style pairs); structured
data is also redacted by key (a `password` field, an env var `DB_PASSWORD`). Each secret is
replaced by `[REDACTED:<kind>]` so a reader still sees that, and what kind of, secret was there.

Redaction errs towards removing: a false positive costs a token of evidence, a false negative
leaks a credential. The patterns are still specific enough to leave ordinary log lines alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


def marker(kind: str) -> str:
    """The replacement text for one secret of this kind."""
    return f"[REDACTED:{kind}]"


@dataclass(frozen=True)
class Rule:
    """One secret shape: a compiled pattern and its replacement (may use groups)."""

    kind: str
    pattern: re.Pattern[str]
    replacement: str


# Key names whose values are secrets. `key` alone is too common ("cache key=...") to count.
_SECRET_WORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|api[_-]?key|apikey|access[_-]?key|"
    r"secret[_-]?key|private[_-]?key|signing[_-]?key|encryption[_-]?key|master[_-]?key|client[_-]?secret|"
    r"auth[_-]?token|session[_-]?(?:id|key|token)|cookie|x-api-key"
)
SECRET_KEY = re.compile(rf"(?i)(?:^|[^a-z0-9])(?:{_SECRET_WORDS})(?:$|[^a-z0-9])")
# Field names that mention a secret but hold a reference or a count, not the secret itself.
_NOT_SECRET_KEY = re.compile(
    r"(?i)(?:name|names|ref|refs|keyref|path|file|files|count|length|size|type|limit|ttl|expiry|expires|"
    r"expiresat|expires_at|enabled|required|url|uri|endpoint|header|policy|id_field|max|min)$"
)
# Values that are not secrets whatever the key: empty, null-ish, booleans, placeholders, markers.
_NON_SECRET_VALUE = re.compile(r"(?i)^(?:|null|none|nil|true|false|\*+|<[^>]*>|\[REDACTED(?::[\w-]+)?\]|x+)$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")

_PAIR_VALUE = r"""(?:\[REDACTED(?::[\w-]+)?\]|"[^"\n]*"|'[^'\n]*'|[^\s,;&"'}\])]+)"""


def _pair_rule() -> re.Pattern[str]:
    # key (optionally quoted) followed by = or : and a value (optionally quoted), e.g.
    #   password=hunter2   "client_secret": "abc"   DB_PASSWORD: s3cr3t   Password=x;   token = 'abc'
    key = rf"""(?P<key>["']?[\w.-]*(?:{_SECRET_WORDS})[\w.-]*["']?)"""
    return re.compile(rf"(?i)(?<![\w/-]){key}(?P<sep>\s*[:=]\s*)(?P<value>{_PAIR_VALUE})")


RULES: tuple[Rule, ...] = (
    Rule(
        "private-key",
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            # without its END line (a truncated log), take the base64 lines that follow
            r"(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"|(?:(?:\r?\n|\\n)[A-Za-z0-9+/=]{16,})*)"
        ),
        marker("private-key"),
    ),
    # scheme://user:password@host -> keep the user (useful for diagnosis), drop the password.
    Rule(
        "url-password",
        re.compile(r"(?i)\b(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@]*):(?P<pw>[^\s/@]+)@"),
        r"\g<scheme>\g<user>:" + marker("password") + "@",
    ),
    Rule(
        "authorization",
        re.compile(
            r"(?i)\b(?P<h>(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)"
            r"(?P<scheme>(?:bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?[^\s\"',;]+"
        ),
        r"\g<h>\g<scheme>" + marker("credentials"),
    ),
    # A random token has digits; "bearer authentication" is prose.
    Rule(
        "bearer",
        re.compile(r"(?i)\b(?P<b>bearer\s+)(?=[A-Za-z\-._~+/]*\d)[A-Za-z0-9\-._~+/]{8,}=*"),
        r"\g<b>" + marker("token"),
    ),
    Rule(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        marker("jwt"),
    ),
    Rule(
        "aws-access-key",
        re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b"),
        marker("aws-key"),
    ),
    Rule(
        "github-token",
        re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b"),
        marker("github-token"),
    ),
    Rule("gitlab-token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"), marker("gitlab-token")),
    Rule("slack-token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"), marker("slack-token")),
    Rule("google-api-key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), marker("google-api-key")),
    Rule("stripe-key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"), marker("stripe-key")),
    Rule("api-key", re.compile(r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}\b"), marker("api-key")),
)
_PAIR = _pair_rule()


def _redact_pair(match: re.Match[str]) -> str:
    key, value = match.group("key"), match.group("value")
    bare_key = key.strip("\"'")
    bare_value = value.strip("\"'")
    if _NOT_SECRET_KEY.search(bare_key) or _NON_SECRET_VALUE.match(bare_value):
        return match.group(0)
    # A number under a token/key name is a count (max_tokens=1024), not a credential; under a
    # password-ish name it is still a password.
    if _NUMBER.match(bare_value) and not re.search(r"(?i)pass|pwd|secret", bare_key):
        return match.group(0)
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    return f"{key}{match.group('sep')}{quote}{marker('secret')}{quote}"


def redact(text: str) -> str:
    """`text` with every recognised secret replaced by a `[REDACTED:<kind>]` marker."""
    for rule in RULES:
        text = rule.pattern.sub(rule.replacement, text)
    return _PAIR.sub(_redact_pair, text)


def is_secret_key(key: str) -> bool:
    """True when a field or variable name says its value is a secret (`DB_PASSWORD`, `apiKey`)."""
    if _NOT_SECRET_KEY.search(key):
        return False
    # Split camelCase so `apiKey` / `clientSecret` read like `api_key` / `client_secret`.
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key)
    return bool(SECRET_KEY.search(spaced))


def redact_data(value: Any) -> Any:
    """A copy of JSON-shaped data with secrets removed: strings by shape, values by their key.

    Kubernetes env entries (`{"name": "DB_PASSWORD", "value": "..."}`) are redacted by name.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        named_secret = isinstance(value.get("name"), str) and is_secret_key(value["name"])
        for key, item in value.items():
            key = str(key)
            secret_scalar = isinstance(item, str | int | float) and not isinstance(item, bool)
            if secret_scalar and (is_secret_key(key) or (named_secret and key == "value")):
                text = str(item)
                out[key] = item if _NON_SECRET_VALUE.match(text) else marker("secret")
            else:
                out[key] = redact_data(item)
        return out
    return value
