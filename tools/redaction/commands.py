"""Secrets in command lines: `--password x`, `--token=x`, `curl -u user:pw`, `mysql -pSECRET`.

A long flag is judged by its name (`names.classify_name`): `--password`, `--client-secret`,
`--api-key`, `--oauth2-bearer`, `--http-password`. User flags (`-u`/`--user`/`--proxy-user`
of curl and wget) carry `user:password`: only the password goes, and `1000:1000` (a uid:gid, as
`docker run -u` takes it) stays. Short flags are ambiguous (`-p` is a port for most tools), so
`-p<password>` is read only on a mysql/mariadb command line, `-a` only on a redis-cli one, and
`-p` only for sshpass and `docker login`.

Both a command line as text and an argv list (a container's `command`/`args`) are handled, and so
is an argv list written out in text: a YAML block sequence (`- --password` / `- x`, also as the
lines of a diff) or a flow sequence (`["curl", "-u", "admin:pw"]`), where the flag and its value
sit in separate items.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from tools.redaction.names import classify_name
from tools.redaction.spans import Span
from tools.redaction.values import is_placeholder

_VALUE = r"""(?:"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s"'`;&|<>()]+)"""
_LONG_FLAG = re.compile(rf"(?<![\w\-])(?P<flag>--[A-Za-z][\w\-]*)(?P<sep>=|[ \t]+)(?P<value>{_VALUE})")
_USER_FLAG = re.compile(
    rf"(?<![\w\-])(?P<flag>-u|-U|--user|--proxy-user|--http-user|--auth)(?P<sep>=|[ \t]+)(?P<value>{_VALUE})"
)
_USER_FLAGS = frozenset({"-u", "-U", "--user", "--proxy-user", "--auth"})
_MYSQL = re.compile(r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlsh|mysqlimport)\b")
_MYSQL_P = re.compile(rf"(?<![\w\-])-p(?P<value>{_VALUE})")
_REDIS = re.compile(r"\bredis-cli\b")
_REDIS_A = re.compile(rf"(?<![\w\-])-a[ \t]+(?P<value>{_VALUE})")
_PASS_P = re.compile(
    rf"\b(?:sshpass|docker[ \t]+login|podman[ \t]+login|htpasswd)\b[^\n]*?"
    rf"(?<![\w\-])-p[ \t]+(?P<value>{_VALUE})"
)


def _unquoted(start: int, end: int, value: str) -> tuple[int, int, str]:
    if len(value) >= 2 and value[0] in "\"'" and value[-1] == value[0]:
        return start + 1, end - 1, value[1:-1]
    return start, end, value


def _user_password(start: int, value: str) -> Span | None:
    """The password of `user:password` starting at `start`, unless it is a uid:gid or empty."""
    user, colon, password = value.partition(":")
    if not colon or not password or (user.isdigit() and password.isdigit()) or is_placeholder(password):
        return None
    offset = start + len(user) + 1
    return Span(offset, offset + len(password), "user-password")


def command_spans(text: str) -> Iterator[Span]:
    """Secret flag values in command lines within `text`."""
    if "-" not in text:
        return
    if "--" in text:
        for match in _LONG_FLAG.finditer(text):
            flag, value = match.group("flag"), match.group("value")
            if flag in _USER_FLAGS or value.startswith("-") or classify_name(flag) is None:
                continue
            start, end, bare = _unquoted(*match.span("value"), value)
            if bare and not is_placeholder(bare):
                yield Span(start, end, "flag")
    for match in _USER_FLAG.finditer(text):
        start, _, bare = _unquoted(*match.span("value"), match.group("value"))
        span = _user_password(start, bare)
        if span is not None:
            yield span
    lower = text.lower()
    for words, context, pattern in (
        (("mysql", "mariadb"), _MYSQL, _MYSQL_P),
        (("redis-cli",), _REDIS, _REDIS_A),
    ):
        if any(word in lower for word in words) and context.search(text):
            for match in pattern.finditer(text):
                start, end, bare = _unquoted(*match.span("value"), match.group("value"))
                if bare and not bare.startswith("-") and not is_placeholder(bare):
                    yield Span(start, end, "flag")
    if not any(word in lower for word in ("sshpass", "login", "htpasswd")):
        return
    for match in _PASS_P.finditer(text):
        start, end, bare = _unquoted(*match.span("value"), match.group("value"))
        if bare and not is_placeholder(bare):
            yield Span(start, end, "flag")


def argv_secret_indexes(argv: Sequence[str]) -> Iterator[tuple[int, Span | None]]:
    """In an argv list, (index, span) of the items holding a secret the items alone do not show.

    The span is None when the whole item is the secret (`["--password", "x"]`: item 1), or the
    secret's place in the item (`["-u", "admin:pw"]`, `["mysql", "-pSECRET"]`).
    """
    program = " ".join(argv[:3])
    mysql = _MYSQL.search(program) is not None
    redis = _REDIS.search(program) is not None
    sshpass = re.search(r"\b(?:sshpass|login)\b", program) is not None
    for index, item in enumerate(argv[:-1]):
        following = argv[index + 1]
        if following.startswith("-") and not (item in _USER_FLAGS and ":" in following):
            continue
        if item in _USER_FLAGS:
            span = _user_password(0, following)
            if span is not None:
                yield index + 1, span
        elif item.startswith("--") and "=" not in item and classify_name(item) is not None:
            if not is_placeholder(following):
                yield index + 1, None
        elif (redis and item == "-a") or (sshpass and item == "-p"):
            yield index + 1, None
    if mysql:  # `-pSECRET` (no space: `-p` alone prompts, and the next word is the database)
        for index, item in enumerate(argv):
            if item.startswith("-p") and len(item) > 2 and not item.startswith("--"):
                yield index, Span(2, len(item), "flag")


# An argv item in a YAML block sequence, also as a diff line: `        - --password`, `+  - x`.
_BLOCK_ITEM = re.compile(r"^(?P<lead>[+\- ]?[ \t]*)- (?P<item>[^\n]*?)[ \t]*$", re.MULTILINE)
# A flow sequence on one line: `["curl", "-u", "admin:pw"]`, `[--token, x]`.
_FLOW = re.compile(r"\[(?P<items>[^\[\]\n]*)\]")
_FLOW_ITEM = re.compile(
    r"""\s*(?:"(?P<dq>(?:[^"\\]|\\.)*)"|'(?P<sq>[^']*)'|(?P<bare>[^,\s][^,]*?))\s*(?:,|$)"""
)


def _item_span(start: int, raw: str) -> tuple[int, str]:
    """Where an item's value starts and the value, without the quotes around it."""
    if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
        return start + 1, raw[1:-1]
    return start, raw


def _argv_spans(items: list[tuple[int, str]]) -> Iterator[Span]:
    argv = [value for _, value in items]
    for index, span in argv_secret_indexes(argv):
        start, value = items[index]
        if span is None:
            yield Span(start, start + len(value), "flag")
        else:
            yield Span(start + span.start, start + span.end, span.kind)


def listed_argv_spans(text: str) -> Iterator[Span]:
    """Secret flag values in argv lists written as YAML block or flow sequences within `text`."""
    if "- -" in text:
        run: list[tuple[int, str]] = []
        lead, line_end = -1, -1
        for match in _BLOCK_ITEM.finditer(text):
            consecutive = match.start() == line_end + 1 and len(match.group("lead")) == lead
            if not consecutive:
                yield from _argv_spans(run)
                run = []
            lead, line_end = len(match.group("lead")), match.end()
            run.append(_item_span(match.start("item"), match.group("item")))
        yield from _argv_spans(run)
    if "[" in text and ('"-' in text or "'-" in text or "[-" in text or ", -" in text):
        for flow in _FLOW.finditer(text):
            items = []
            for item in _FLOW_ITEM.finditer(flow.group("items")):
                group = next(g for g in ("dq", "sq", "bare") if item.group(g) is not None)
                items.append((flow.start("items") + item.start(group), item.group(group)))
            yield from _argv_spans(items)
