"""Secrets recognisable by the syntax around them: URL user-info, auth headers, cookies, PEM keys.

Only the secret is replaced; what surrounds it stays for the diagnosis:
`postgres://app:«redacted:3f9a1c»@db:5432/shop` keeps the scheme, user, host, port and
database; `Authorization: Bearer «redacted:…»` keeps the scheme; a PEM block keeps its
BEGIN/END lines so a reader knows a private key was there.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

from tools.redaction.spans import Span, lowered, occurrences
from tools.redaction.values import is_placeholder

# scheme://user:password@host — the password may hold '@' (unencoded, as people write them):
# the authority ends at the last '@' before the path. `redis://:pw@cache` has no user.
_URL_USERINFO = re.compile(
    r"(?<=[A-Za-z0-9+.\-])://(?P<user>[^\s:/@?#\"'<>]*):(?P<pw>[^\s/?#\"'<>]+)@(?=[\w\[.\-])"
)
# scheme://token@host — user-info without a password is a credential when it looks random
# (Sentry DSNs, `https://<token>@github.com/...`); `ssh://git@host` and `app@db` stay.
_URL_USER_ONLY = re.compile(r"(?<=[A-Za-z0-9+.\-])://(?P<user>[A-Za-z0-9_\-.~%]{16,})@(?=[\w\[.\-])")

# Each pattern is matched only where its word occurs (found by a literal search in lower case).
_AUTH_HEADER = re.compile(
    r"""(?ix)
    authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?
    (?:(?P<scheme>bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256|apikey|api-key|sso-key|key)
       [ \t]+)?
    (?P<cred>[^\s"',;`\\]+)
    (?P<more>(?:[ \t]*,[ \t]*[\w-]+=(?:"[^"\n]*"|[^\s,"\\]+))*)  # digest / AWS4 parameters
    """
)
_SCHEMES = frozenset({"bearer", "basic", "token", "digest", "negotiate", "ntlm", "header"})
_BEARER = re.compile(r"(?i)bearer[ \t]+(?P<cred>(?=[A-Za-z0-9\-._~+/]*\d)[A-Za-z0-9\-._~+/]{8,}=*)")
_BASIC = re.compile(r"(?i)basic[ \t]+(?P<cred>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_COOKIE_HEADER = re.compile(r"(?i)cookie[ \t]*:[ \t]*(?P<rest>[^\n\"\\]*)")
_COOKIE_PAIR = re.compile(r"(?:^|;)[ \t]*(?P<name>[^=;\s]+)=(?P<value>[^;]*)")

_PEM_BEGIN = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"
    r"|PuTTY-User-Key-File-\d+:"
)
_PEM_END = re.compile(
    r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|---- END SSH2 ENCRYPTED PRIVATE KEY ----"
)
# A block cut short (a truncated log, a half-written file): the base64 lines after BEGIN.
_PEM_BODY = re.compile(r"(?:(?:\r?\n|\\r?\\n|[ \t])*[A-Za-z0-9+/=:,\-][A-Za-z0-9+/=:,\- ]{3,})+")
_PEM_MAX = 64_000


def url_userinfo_spans(text: str) -> Iterator[Span]:
    """Passwords in `scheme://user:password@host`, and random-looking user-only user-info."""
    if "://" not in text:
        return
    for match in _URL_USERINFO.finditer(text):
        user, pw = match.group("user"), match.group("pw")
        if pw.isdigit() and not user:  # `http://:8080@…` is no credential
            continue
        yield Span(*match.span("pw"), "url-password")
    for match in _URL_USER_ONLY.finditer(text):
        user = match.group("user")
        if any(c.isdigit() for c in user) and any(c.isalpha() for c in user) and "." not in user[:-1]:
            yield Span(*match.span("user"), "url-token")


def _at_words(text: str, lower: str, word: str, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """`pattern` matched at each occurrence of `word` that starts a word."""
    for position in occurrences(lower, word):
        if position == 0 or not text[position - 1].isalnum():
            match = pattern.match(text, position)
            if match is not None:
                yield match


def header_spans(text: str) -> Iterator[Span]:
    """Credentials in Authorization / Proxy-Authorization headers, and bare bearer tokens."""
    lower = lowered(text)
    for match in _at_words(text, lower, "authorization", _AUTH_HEADER):
        cred = match.group("cred")
        if len(cred) < 4 or is_placeholder(cred) or cred.lower() in _SCHEMES:
            continue  # `Authorization: Bearer <api-token>` in documentation, `f"Bearer {x}"` in code
        start, end = match.span("cred")
        if match.group("more"):
            end = match.end("more")
        yield Span(start, end, "authorization")
    for match in _at_words(text, lower, "bearer", _BEARER):
        yield Span(*match.span("cred"), "bearer")
    for match in _at_words(text, lower, "basic", _BASIC):
        if _is_basic_credential(match.group("cred")):
            yield Span(*match.span("cred"), "basic-auth")


def _is_basic_credential(encoded: str) -> bool:
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in decoded and decoded.isprintable()


def cookie_spans(text: str) -> Iterator[Span]:
    """Values in `Cookie:` headers (every cookie) and `Set-Cookie:` (the cookie, not attributes)."""
    lower = lowered(text)
    for header in _at_words(text, lower, "cookie", _COOKIE_HEADER):
        set_cookie = lower[max(0, header.start() - 4) : header.start()] == "set-"
        rest, base = header.group("rest"), header.start("rest")
        for index, pair in enumerate(_COOKIE_PAIR.finditer(rest)):
            if set_cookie and index > 0:
                break
            raw = pair.group("value")
            value = raw.strip()
            if value:
                start = base + pair.start("value") + len(raw) - len(raw.lstrip())
                yield Span(start, start + len(value), "cookie")


def private_key_spans(text: str) -> Iterator[Span]:
    """The body of every PEM/OpenSSH/PuTTY private key block (the BEGIN/END lines stay)."""
    if "PRIVATE KEY" not in text and "PuTTY" not in text:
        return
    for begin in _PEM_BEGIN.finditer(text):
        window_end = min(len(text), begin.end() + _PEM_MAX)
        end = _PEM_END.search(text, begin.end(), window_end)
        if end is not None:
            yield Span(begin.end(), end.start(), "private-key")
            continue
        body = _PEM_BODY.match(text, begin.end(), window_end)
        if body is not None:
            yield Span(begin.end(), body.end(), "private-key")
