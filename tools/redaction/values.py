"""Values that are no secret whatever their name says: placeholders, references, flags, paths.

`PASSWORD: ""`, `token: null`, `DB_PASSWORD: ${DB_PASSWORD}`, `API_KEY=$(API_KEY)`,
`password: <your-password>`, `auth_required: true`, `TOKEN_CACHE: /var/cache/tokens`, a value
already replaced by a marker: redacting them would hide configuration a diagnosis needs (an
unset variable, a wrong mount path) and protect nothing.
"""

from __future__ import annotations

import re

from tools.redaction.marker import MARKER_PATTERN

_PLACEHOLDER = re.compile(
    r"""(?ix)^(?:
        |null|none|nil|undefined|true|false|yes|no|on|off|enabled|disabled|required|optional
        |\*+|x{3,}|\.{3}|…|-+|_+|\?+
        |<[^<>]*>                                  # <your-token>
        |\$\{\{[^}]*\}\}|\$\{[^}]*\}|\$\([^)]*\)|\$[a-z_][a-z0-9_]*  # ${{ x }} ${VAR} $(VAR) $VAR
        |\{\{[^}]*\}\}|%\([^)]*\)s|%s             # templates
        |\[redacted[^\]]*\]|<redacted>|redacted|\(redacted\)|\[filtered\]|\[hidden\]|\[masked\]
        |[\w\-]{0,12}(?:\.{3}|…|\*{3,})           # elided: sk-..., ghp_***
        |«redacted:[0-9a-f]{6}»
    )$"""
)
# Words a log puts after "token:" / "password:" to say what went wrong, not the value.
_STATUS_WORDS = frozenset(
    {
        "expired", "invalid", "missing", "required", "empty", "unauthorized", "revoked", "denied",
        "rejected", "mismatch", "incorrect", "wrong", "not", "failed", "ok", "error", "unknown",
        "provided", "set", "unset", "found", "present", "absent", "refreshed", "rotated", "accepted",
        "valid", "malformed", "too", "must", "is", "was", "has", "the", "a", "an", "for", "from",
        "changed", "updated", "reset", "verified", "ignored", "hidden", "omitted", "see", "use",
    }
)  # fmt: skip
# Type names: `password: str` in a model, `secret: bool` in a signature (a diff of code).
_TYPE_WORDS = frozenset(
    {"str", "string", "bool", "boolean", "int", "integer", "float", "number", "bytes", "dict", "list",
     "tuple", "any", "object", "none", "optional", "secretstr", "secretbytes", "char", "text", "varchar"}
)  # fmt: skip
# A value that reads another variable or field (`password=self.password`, `settings.db.password`,
# `kube.core.read_namespaced_secret`): lowercase identifiers joined by dots.
_REFERENCE = re.compile(r"^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+$")
# A type annotation: `token: SecretStr | None = None`, `credentials: Annotated[...]`.
_ANNOTATION = re.compile(
    r"^(?:(?:str|int|bool|float|bytes|dict|list|tuple|set|Any|None|Optional|Union|SecretStr|Annotated)\b"
    r"|[A-Z]\w*[ \t]*(?:\[|\|[ \t]*\w))"
)
_IDENTIFIER_WORD = re.compile(r"^_*[a-z][a-z_]*_*$")
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$|^0x[0-9a-fA-F_]+$")
_ABSOLUTE_PATH = re.compile(r"^(?:/[\w.@%+~-]+)+/?$|^[A-Za-z]:\\[\w.\\ -]+$")
_RELATIVE_PATH = re.compile(r"^[a-z0-9._-]+(?:/[a-z0-9._-]+)+/?$")
_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_DURATION = re.compile(r"^\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h|d|w)(?:\d+(?:\.\d+)?(?:ms|s|m|h))*$")


def is_placeholder(value: str) -> bool:
    """Empty, null-ish, boolean, a reference to a variable or template, or already redacted."""
    return _PLACEHOLDER.match(value.strip()) is not None or MARKER_PATTERN.fullmatch(value) is not None


def is_status_word(value: str) -> bool:
    """A word logs use to report on a secret (`token: expired`), not a secret."""
    return value.lower() in _STATUS_WORDS


def is_code_reference(value: str) -> bool:
    """A type, a type annotation or a read of another variable, as in source code and its diffs."""
    return value.lower() in _TYPE_WORDS or bool(_REFERENCE.match(value) or _ANNOTATION.match(value))


def is_identifier_word(value: str) -> bool:
    """A lowercase word or snake_case identifier (`metrics`, `__reasoner__`, `chat_answerer`)."""
    return _IDENTIFIER_WORD.match(value) is not None


def is_number(value: str) -> bool:
    """A plain integer or decimal, or a hex literal."""
    return _NUMBER.match(value) is not None


def is_path(value: str) -> bool:
    """A file path (absolute, or relative in lowercase segments): where a secret is, not it."""
    return bool(_ABSOLUTE_PATH.match(value) or _RELATIVE_PATH.match(value))


def is_time(value: str) -> bool:
    """A date, timestamp or duration (`2024-05-01T10:00:00Z`, `1h30m`)."""
    return bool(_TIMESTAMP.match(value) or _DURATION.match(value))
