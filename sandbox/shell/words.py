"""Word expansion: quotes, parameters (`${VAR:-default}` and friends), command substitution,
arithmetic, field splitting and pathname expansion, in the order POSIX gives.

Works on a word's raw source text. Expansion may run commands (`$(cat /f)`), so the functions
are generators yielding the process effects of those commands and returning the result.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Generator
from typing import TYPE_CHECKING

from sandbox.shell.arith import ArithError, evaluate

if TYPE_CHECKING:
    from sandbox.shell.interp import Shell

Gen = Generator

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]|[#?$!@*0-]")
_GLOB = set("*?[")


class ExpansionError(Exception):
    """A fatal expansion error (`${X:?}`, `set -u`), already worded for the shell's stderr."""


def _closing(raw: str, i: int, open_: str, close: str) -> int:
    depth, j = 0, i
    while j < len(raw):
        c = raw[j]
        if c == "\\":
            j += 2
            continue
        if c == "'" and open_ == "(":
            j = raw.find("'", j + 1) + 1 or len(raw)
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(raw)


def _trim(value: str, pattern: str, op: str) -> str:
    if op in ("#", "##"):
        rng = range(len(value) + 1) if op == "#" else range(len(value), -1, -1)
        for n in rng:
            if fnmatch.fnmatchcase(value[:n], pattern):
                return value[n:]
    else:
        rng = range(len(value), -1, -1) if op == "%" else range(len(value) + 1)
        for n in rng:
            if fnmatch.fnmatchcase(value[n:], pattern):
                return value[:n]
    return value


def _param(sh: Shell, body: str) -> Gen[object, None, list[str] | str]:
    """`${body}`: the value (a list for `$@`)."""
    if body.startswith("#") and len(body) > 1:
        value = sh.var(body[1:])
        return str(len(value or ""))
    m = _NAME.match(body)
    if not m:
        raise ExpansionError(f"{sh.prefix()}syntax error: bad substitution")
    name, rest = m.group(0), body[m.end() :]
    if name.startswith("__arith_"):
        try:
            return str(evaluate(sh.arith[int(name[8:])], lambda n: sh.var(n) or ""))
        except ArithError as err:
            raise ExpansionError(f"{sh.prefix()}{err}") from None
    if name == "@" and not rest:
        return list(sh.positional)
    value = sh.var(name)
    if not rest:
        if value is None and "u" in sh.options and name not in ("@", "*", "!"):
            raise ExpansionError(f"{sh.prefix()}{name}: {sh.unbound_message()}")
        return value or ""
    m2 = re.match(r"(:?[-=+?])|(##|#|%%|%)|(/{1,2})|(\^\^|,,)|:", rest)
    if not m2:
        raise ExpansionError(f"{sh.prefix()}syntax error: bad substitution")
    op = m2.group(0)
    word = rest[len(op) :]
    if m2.group(1):
        null_counts = op.startswith(":")
        unset = value is None or (null_counts and value == "")
        kind = op[-1]
        if kind == "-":
            return (yield from expand_text(sh, word)) if unset else value or ""
        if kind == "=":
            if unset:
                value = yield from expand_text(sh, word)
                sh.set_var(name, value)
            return value or ""
        if kind == "+":
            return "" if unset else (yield from expand_text(sh, word))
        if unset:
            message = (yield from expand_text(sh, word)) or "parameter null or not set"
            raise ExpansionError(f"{sh.prefix()}{name}: {message}")
        return value or ""
    value = value or ""
    if m2.group(2):
        pattern = yield from expand_text(sh, word)
        return _trim(value, pattern, op)
    if m2.group(3):
        pat, _, rep = word.partition("/")
        pattern = yield from expand_text(sh, pat)
        replacement = yield from expand_text(sh, rep)
        rx = fnmatch.translate(pattern).replace(r"\Z", "")
        return re.sub(rx, lambda _m: replacement, value, count=0 if op == "//" else 1)
    if m2.group(4):
        return value.upper() if op == "^^" else value.lower()
    off, _, length = word.partition(":")
    try:
        start = evaluate(off or "0", lambda n: sh.var(n) or "")
        chunk = value[start:]
        return chunk[: evaluate(length, lambda n: sh.var(n) or "")] if length else chunk
    except ArithError:
        raise ExpansionError(f"{sh.prefix()}syntax error: bad substitution") from None


def _pieces(sh: Shell, raw: str, in_dquote: bool = False) -> Gen[object, None, list[tuple[object, str]]]:
    """(piece, kind) with kind `lit` (unquoted literal), `q` (quoted) or `exp` (unquoted expansion)."""
    out: list[tuple[object, str]] = []
    i, n = 0, len(raw)
    lit = "q" if in_dquote else "lit"
    exp = "q" if in_dquote else "exp"
    while i < n:
        c = raw[i]
        if c == "\\":
            nxt = raw[i + 1 : i + 2]
            if in_dquote and nxt not in ('"', "\\", "$", "`", "\n"):
                out.append(("\\" + nxt, "q"))
            elif nxt != "\n":
                out.append((nxt, "q"))
            i += 2
        elif c == "'" and not in_dquote:
            end = raw.find("'", i + 1)
            end = n if end < 0 else end
            out.append((raw[i + 1 : end], "q"))
            i = end + 1
        elif c == '"' and not in_dquote:
            end = i + 1
            while end < n and raw[end] != '"':
                if raw[end] == "\\":
                    end += 1
                elif raw[end] == "$" and raw[end + 1 : end + 2] == "(":
                    end = _closing(raw, end + 1, "(", ")")
                end += 1
            inner = yield from _pieces(sh, raw[i + 1 : end], in_dquote=True)
            out.extend(inner or [("", "q")])
            i = end + 1
        elif c == "$" and raw[i + 1 : i + 2] == "(":
            end = _closing(raw, i + 1, "(", ")")
            text = yield from sh.substitute(raw[i + 2 : end])
            out.append((text, exp))
            i = end + 1
        elif c == "`":
            end = raw.find("`", i + 1)
            end = n if end < 0 else end
            text = yield from sh.substitute(raw[i + 1 : end].replace("\\`", "`"))
            out.append((text, exp))
            i = end + 1
        elif c == "$" and raw[i + 1 : i + 2] == "{":
            end = _closing(raw, i + 1, "{", "}")
            value = yield from _param(sh, raw[i + 2 : end])
            out.append((value, exp))
            i = end + 1
        elif c == "$" and (m := _NAME.match(raw, i + 1)):
            name = m.group(0)
            if name[0].isalpha() or name[0] == "_":
                name = re.match(r"[A-Za-z_][A-Za-z0-9_]*", raw[i + 1 :]).group(0)  # type: ignore[union-attr]
            value = yield from _param(sh, name)
            out.append((value, exp))
            i += 1 + len(name)
        elif c == "~" and i == 0 and not in_dquote:
            j = i + 1
            while j < n and raw[j] not in "/:":
                j += 1
            out.append(((sh.var("HOME") or "/root") if j == i + 1 else raw[i:j], "q"))
            i = j
        else:
            j = i
            while j < n and raw[j] not in "\\'\"$`" and not (raw[j] == "~" and j == 0):
                j += 1
            out.append((raw[i:j], lit))
            i = j
    return out


def expand_word(sh: Shell, raw: str, split: bool = True) -> Gen[object, None, list[str]]:
    """The fields one word expands to."""
    pieces = yield from _pieces(sh, raw)
    ifs = sh.var("IFS")
    seps = " \t\n" if ifs is None else ifs
    fields: list[tuple[str, str]] = []  # (text, glob pattern)
    cur, pat, started, globbing = "", "", False, False
    for value, kind in pieces:
        if isinstance(value, list):  # "$@" / $@
            for k, item in enumerate(value):
                if k:
                    fields.append((cur, pat))
                    cur, pat = "", ""
                cur += item
                pat += fnmatch_escape(item)
                started = True
            continue
        text = str(value)
        if kind == "exp" and split and seps:
            parts = re.split("[" + re.escape(seps) + "]+", text)
            for k, part in enumerate(parts):
                if k:
                    if started or cur:
                        fields.append((cur, pat))
                    cur, pat, started = "", "", False
                cur += part
                pat += part
                globbing |= bool(_GLOB & set(part))
                started |= bool(part)
            continue
        cur += text
        pat += text if kind in ("lit", "exp") else fnmatch_escape(text)
        globbing |= kind in ("lit", "exp") and bool(_GLOB & set(text))
        started |= kind == "q" or bool(text)
    if started or cur:
        fields.append((cur, pat))
    if not globbing or "f" in sh.options:
        return [f for f, _ in fields]
    out: list[str] = []
    for text, pattern in fields:
        matches = sh.glob(pattern) if _GLOB & set(pattern) else []
        out.extend(matches or [text])
    return out


def fnmatch_escape(text: str) -> str:
    """`text` as a literal inside a glob pattern."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def expand_words(sh: Shell, raws: list[str]) -> Gen[object, None, list[str]]:
    """Every word's fields, concatenated (a command's argv)."""
    out: list[str] = []
    for raw in raws:
        out.extend((yield from expand_word(sh, raw)))
    return out


def expand_text(sh: Shell, raw: str) -> Gen[object, None, str]:
    """One string, no splitting or globbing (assignments, redirection targets, here-docs)."""
    pieces = yield from _pieces(sh, raw)
    return "".join(" ".join(v) if isinstance(v, list) else str(v) for v, _ in pieces)


def expand_heredoc(sh: Shell, body: str) -> Gen[object, None, str]:
    """A here-document body: parameters and substitutions expand, quotes stay."""
    pieces = yield from _pieces(sh, body.replace('"', '\\"'), in_dquote=True)
    return "".join(" ".join(v) if isinstance(v, list) else str(v) for v, _ in pieces).replace('\\"', '"')


def expand_pattern(sh: Shell, raw: str) -> Gen[object, None, str]:
    """A `case` pattern: expansions happen, quoted characters match literally."""
    pieces = yield from _pieces(sh, raw)
    return "".join(str(v) if k == "lit" else fnmatch_escape(str(v)) for v, k in pieces)
