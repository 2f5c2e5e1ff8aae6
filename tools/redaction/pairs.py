"""Secrets found by their name in text: `name=value`, `name: value`, `"name": "value"`, env blocks.

Forms read: logfmt and query strings (`password=x&user=y`), JSON (also escaped inside a JSON
string, as in `last-applied-configuration`), YAML and env files (the value is the rest of the
line; a `|` block is the indented lines after it), connection strings (`Password=x;`),
`kubectl describe` env listings, and Kubernetes env entries written out as text
(`- name: DB_PASSWORD` / `value: x`, also as the `+`/`-` lines of a diff, and the JSON and flow
forms) where the name and the value are two fields.

Only the value is replaced. A name that says "container" (a DSN, a connection string) or a URL
value is redacted inside when something inside is found (`postgres://app:«…»@db/shop`), else
whole. Placeholders, references and paths stay (`names` and `values` decide).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import NamedTuple

from tools.redaction.marker import MARKER_PREFIX
from tools.redaction.names import NameClass, classify_name
from tools.redaction.spans import Span, lowered, shift
from tools.redaction.values import (
    is_code_reference,
    is_identifier_word,
    is_number,
    is_path,
    is_placeholder,
    is_status_word,
    is_time,
)

# A name worth a closer look holds one of these; `classify_name` decides.
_STEM = (
    r"pass|pwd|pw|pin|secret|token|key|cred|auth|dsn|cookie|sess|sig|salt|jwt|bearer|priv|conn|otp|hmac|psk"
)
_STEM_PATTERN = re.compile(_STEM)  # run on `lowered(text)`: a case-blind alternation is 10x slower
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
_NOT_BEFORE_KEY = frozenset("/\\$%")  # `https://auth.example.com:443`, `$PASSWORD`, `%token`
_INLINE_VALUE = r"""(?P<value>
      \\"(?:[^"\\\n]|\\(?!"))*\\"                 # \"escaped\" inside a JSON string
    | "(?:[^"\\\n]|\\.)*"
    | '[^'\n]*'
    | (?:bearer|basic|token|digest)[ \t]+[^\s"',;&`\\]+
    | \$\{[^}\n]*\}|\$\([^)\n]*\)                 # ${VAR} / $(VAR) references
    | [^\s,;&"'`<>(){}\[\]\\]+
)"""
# What follows a name mid-line: `=`, `:`, `:=`, `=>` and a value (quoted, or up to a delimiter).
_INLINE = re.compile(
    rf"(?ix)(?:\\?[\"'])?(?P<gap>[ \t]*)(?P<sep>:=|=>|=(?!=)|:(?!//|:))[ \t]*{_INLINE_VALUE}"
)
# YAML-like `name: value` at the start of a line: the value is the rest of the line. (`name=value`
# follows shell rules instead, inline: an unquoted value ends at whitespace.)
_LEAD = re.compile(r"[ \t]*(?:[+\-][ \t]*)?(?:-[ \t]+)?")
_LINE = re.compile(r"""(?:\\?["'])?[ \t]*:[ \t]*(?P<value>[^\n]*?)[ \t]*\r?$""", re.MULTILINE)
# Prose: "the password is hunter2", "password was changed to: x", "token set to abc123".
_PROSE_PAIR = re.compile(  # run on `lowered(text)`
    r"\b(?P<key>password|passwd|passphrase|pwd|pin|secret|token|api[ _-]?key)[ \t]+"
    r"(?:(?:is|was|has[ \t]+been)[ \t]+)?(?:(?:set|changed|reset|updated)[ \t]+to|is|was|=)"
    r"[ \t]*:?[ \t]+(?P<value>[^\s\"'`,;]+)"
)
_BLOCK_INDICATOR = re.compile(r"^[|>][-+]?\d?$")
_ENV_YAML = re.compile(
    r"""(?m)^[ \t+\-]*(?:-[ \t]+)?name:[ \t]*["']?(?P<name>[\w.\-]+)["']?[ \t]*\r?\n"""
    r"""(?P<values>(?:[ \t+\-]*value:[^\n]*(?:\n|$)){1,4})"""
)
_ENV_VALUE_LINE = re.compile(r"""(?m)^[ \t+\-]*value:[ \t]*(?P<value>[^\n]*?)[ \t]*\r?$""")
_ENV_FLOW = re.compile(
    r"""name:[ \t]*["']?(?P<name>[\w.\-]+)["']?[ \t]*,[ \t]*value:[ \t]*(?P<value>[^,}\n]+)"""
)
_ENV_JSON = re.compile(
    r"""\\*"name\\*"[ \t]*:[ \t]*\\*"(?P<name>[\w.\-]+)\\*"[ \t]*,[ \t]*"""
    r"""\\*"value\\*"[ \t]*:[ \t]*\\*"(?P<value>[^"\\]*(?:\\(?!\\*")[^"\\]*)*)"""
)
# `kubectl describe` shows env from a Secret or a field as a reference, not a value.
_DESCRIBE_REFERENCE = re.compile(
    r"^<set to the key '[^']*' (?:in secret|of config map) '[^']*'>|^\([\w./\[\]'-]+\)$"
)
_AUTH_SCHEME = re.compile(r"(?i)(?:bearer|basic|token|digest|negotiate|apikey)[ \t]+")
_COOKIE_NAMES = frozenset({"cookie", "set-cookie"})  # `syntax.cookie_spans` reads their values
_PASSWORDISH = (NameClass.PASSWORD,)

Inner = Callable[[str], list[Span]]


def _strip_quotes(start: int, value: str) -> tuple[int, str]:
    for quote in ('\\"', '"', "'"):
        if len(value) >= 2 * len(quote) and value.startswith(quote) and value.endswith(quote):
            return start + len(quote), value[len(quote) : -len(quote)]
    return start, value


def value_spans(name_class: NameClass, value: str, inner: Inner) -> list[Span]:
    """The secret spans within `value`, the value of a secret name of this class.

    Placeholders, references, paths and times keep what `inner` (the shape detectors) finds in
    them; numbers are secrets only under a password-like name; a container (a DSN, a connection
    string) or a URL is redacted inside when `inner` finds something there, else whole.
    """
    offset = len(value) - len(value.lstrip())
    bare = value.strip()
    scheme = _AUTH_SCHEME.match(bare)  # `Authorization=Bearer x`: the scheme is no secret
    if scheme and len(bare) > scheme.end():
        offset, bare = offset + scheme.end(), bare[scheme.end() :]
    if (
        not bare
        or is_placeholder(bare)
        or is_code_reference(bare)
        or (name_class is NameClass.KEY and is_identifier_word(bare))
        or _DESCRIBE_REFERENCE.match(bare)
        or (is_path(bare) and "://" not in bare)
        or is_time(bare)
        or (is_number(bare) and name_class not in _PASSWORDISH)
    ):
        return inner(value)
    if name_class is NameClass.CONTAINER or "://" in bare:
        found = inner(value)
        if found or MARKER_PREFIX in value:  # redacted inside already (an earlier pass)
            return found
    return [Span(offset, offset + len(bare), f"name:{name_class.value}")]


def _named(name: str, start: int, value: str, inner: Inner, *, prose_ok: bool = False) -> Iterator[Span]:
    name_class = classify_name(name)
    if name_class is None or name.lower().strip("\"'") in _COOKIE_NAMES:
        return
    start, value = _strip_quotes(start, value)
    if is_status_word(value) or _same_words(name, value) or value.startswith(("#", "//")):
        return
    # `failed to refresh token: context deadline exceeded` is an error chain, not a token, and
    # `f"Bearer {token}"` is code; a password-like name gets no such benefit of the doubt.
    prose = prose_ok and value.isalpha() and value.islower()
    if name_class is not NameClass.PASSWORD and (len(value) < 3 or prose):
        return
    yield from shift(value_spans(name_class, value, inner), start)


def _same_words(name: str, value: str) -> bool:
    """`MISSING_CONFIG_KEY = "missing_config_key"`: a constant spelling its own name."""
    return re.sub(r"[\W_]", "", name).lower() == re.sub(r"[\W_]", "", value).lower()


def block_end(text: str, start: int, indent: int) -> int:
    """Where the YAML block scalar starting at `start` (lines indented past `indent`) ends."""
    position = start
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end < 0 else line_end
        line = text[position:line_end]
        if line.strip() and len(line) - len(line.lstrip(" \t+-")) <= indent:
            break
        position = line_end + 1
    return min(position, len(text))


_QUOTED_HEAD = re.compile(r"""^(?:"(?:[^"\\]|\\.)*"|'[^']*')""")
_COMMENT = re.compile(r"[ \t]+#.*$")


def _line_value(value: str) -> str:
    """A YAML/JSON line's value without its trailing comment or comma."""
    quoted = _QUOTED_HEAD.match(value)
    if quoted:
        return quoted.group(0)  # `"x",` in JSON, `"" # comment` in YAML
    return _COMMENT.sub("", value).removesuffix(",")


def _line_pair(text: str, key: str, line: re.Match[str], name: _Name, inner: Inner) -> Iterator[Span]:
    """`name: value` at the start of a line (YAML, describe output): the rest of the line."""
    value = line.group("value")
    if not value or value[0] in "{[(":
        return
    if _BLOCK_INDICATOR.match(value):
        body_start = line.end() + 1
        lead = name.start - len(name.quote) - (text.rfind("\n", 0, name.start) + 1)
        end = block_end(text, body_start, lead)
        if end > body_start and classify_name(key) is not None:
            yield Span(body_start, end, "name:block")
        return
    yield from _named(key, line.start("value"), _line_value(value), inner)


def _inline_pair(
    text: str, key: str, match: re.Match[str], name_quoted: bool, inner: Inner
) -> Iterator[Span]:
    """`name=value`, `"name": "value"`, `name: value` mid-line."""
    value, start = match.group("value"), match.start("value")
    quoted = value[:1] in ("\"", "'", "\\")
    colon = match.group("sep") == ":"
    if colon and match.group("gap") and not (name_quoted and quoted):
        return  # `volume "creds" : secret ...` is a message, not a field
    if not quoted:
        value = value.rstrip(":.")  # `host.local:8200:` ends a sentence, not a value
        after = text[start + len(value) : start + len(value) + 4]
        if after[:1] in ("(", "[") or after.lstrip(" \t")[:1] == "|" or is_code_reference(value):
            return  # `key = cache.key_for(x)`, `secret: Foo | None`: code, not a value
        if classify_name(key) is NameClass.CONTAINER:
            # `ConnectionString: Data Source=db;Password=x` — the value runs to the line's end.
            line_end = text.find("\n", start)
            value = text[start : len(text) if line_end < 0 else line_end].rstrip()
    # `signature: escalate` mid-sentence: a word after a colon, not a field's value.
    prose = colon and not quoted and not name_quoted
    yield from _named(key, start, value, inner, prose_ok=prose)


class _Name(NamedTuple):
    """A name found in text: where it is, the quote before it, and what precedes it on its line."""

    start: int
    end: int
    quote: str
    at_line_start: bool


def _names(text: str) -> Iterator[_Name]:
    """Every name in `text` holding a secret stem, found from the stems (cheap: few hits)."""
    seen: set[int] = set()
    length = len(text)
    for stem in _STEM_PATTERN.finditer(lowered(text)):
        start = stem.start()
        while start > 0 and text[start - 1] in _KEY_CHARS:
            start -= 1
        if start in seen:
            continue  # a second stem of the same name (`client_secret_token`)
        seen.add(start)
        end = stem.end()
        while end < length and text[end] in _KEY_CHARS:
            end += 1
        while start < end and not (text[start].isalpha() or text[start] == "_"):
            start += 1  # `--password`, `.data.password`: the name starts at its first letter
        quote = ""
        if start > 0 and text[start - 1] in "\"'":
            quote = text[start - 1]
            if start > 1 and text[start - 2] == "\\":
                quote = "\\" + quote
        before = start - len(quote)
        if before > 0 and (text[before - 1] in _NOT_BEFORE_KEY or text[before - 1] in _KEY_CHARS):
            continue
        line_start = text.rfind("\n", 0, before) + 1
        lead = _LEAD.match(text, line_start, before)
        yield _Name(start, end, quote, lead is not None and lead.end() == before)


def pair_spans(text: str, inner: Inner) -> Iterator[Span]:
    """Values of secret names in `text`; `inner` finds shapes inside a container value."""
    for name in _names(text):
        key = text[name.start : name.end]
        if name.at_line_start:
            line = _LINE.match(text, name.end)
            if line is not None:
                yield from _line_pair(text, key, line, name, inner)
                continue
        match = _INLINE.match(text, name.end)
        if match is not None:
            yield from _inline_pair(text, key, match, bool(name.quote), inner)
    for match in _PROSE_PAIR.finditer(lowered(text)):
        start = match.start("value")
        value = text[start : match.end("value")].rstrip(".:)")
        yield from _named(match.group("key"), start, value, inner, prose_ok=True)
    yield from env_spans(text, inner)
    yield from secret_manifest_spans(text)


_SECRET_KIND = re.compile(r"""(?m)^[ \t+\-]*kind:[ \t]*["']?Secret["']?[ \t]*$""")
_DATA_BLOCK = re.compile(r"(?m)^(?P<indent>[ \t+\-]*)(?:data|stringData):[ \t]*\r?\n")
_DATA_ENTRY = re.compile(r"(?m)^[ \t+\-]*[\w.\-]+:[ \t]*(?P<value>[^\n]*?)[ \t]*\r?$")


def secret_manifest_spans(text: str) -> Iterator[Span]:
    """Every value under `data:` / `stringData:` of a Secret manifest written out as YAML text."""
    if "Secret" not in text or not _SECRET_KIND.search(text):
        return
    for block in _DATA_BLOCK.finditer(text):
        end = block_end(text, block.end(), len(block.group("indent")))
        for entry in _DATA_ENTRY.finditer(text, block.end(), end):
            if entry.group("value") and not is_placeholder(entry.group("value")):
                yield Span(*entry.span("value"), "secret-data")


def env_spans(text: str, inner: Inner) -> Iterator[Span]:
    """Kubernetes env entries written out as text: the name in one field, the value in the next."""
    if "name" not in text or "value" not in text:
        return
    for match in _ENV_YAML.finditer(text):
        base = match.start("values")
        for line in _ENV_VALUE_LINE.finditer(match.group("values")):
            yield from _named(match.group("name"), base + line.start("value"), line.group("value"), inner)
    for pattern in (_ENV_FLOW, _ENV_JSON):
        for match in pattern.finditer(text):
            yield from _named(match.group("name"), match.start("value"), match.group("value").rstrip(), inner)
