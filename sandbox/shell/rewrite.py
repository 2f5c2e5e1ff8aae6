"""Source rewrites for the shell constructs bashlex does not parse.

Outside quotes and comments: `$(( expr ))` -> `$__arith_N` (the expression is kept in a table and
evaluated at expansion time), `[[` / `]]` -> the `[[` builtin and its closing `]]` word, and
`case WORD in PATTERNS) BODY ;; … esac` -> `if __case WORD 'PATTERNS'; then BODY; elif …; fi`.
"""

from __future__ import annotations

import re

_WORD_END = set(" \t\n;&|()<>")
_CMD_START = set(";&|(){}\n")


def _skip_quoted(text: str, i: int) -> int:
    """Index after the quoted or escaped item starting at `i` (or i + 1)."""
    c = text[i]
    if c == "\\":
        return i + 2
    if c == "'":
        end = text.find("'", i + 1)
        return len(text) if end < 0 else end + 1
    if c == '"':
        j = i + 1
        while j < len(text) and text[j] != '"':
            j += 2 if text[j] == "\\" else 1
        return j + 1
    return i + 1


def _at_word_start(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] in " \t\n;&|(){}"


def _at_command_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t":
        j -= 1
    if j < 0 or text[j] in _CMD_START:
        return True
    for kw in ("then", "do", "else", "!"):
        if text[max(0, j - len(kw) + 1) : j + 1] == kw and _at_word_start(text, j - len(kw) + 1):
            return True
    return False


def _matching(text: str, i: int, open_: str, close: str) -> int:
    """Index of the `close` matching the `open_` at i (quote-aware), or -1."""
    depth, j = 0, i
    while j < len(text):
        c = text[j]
        if c in "\\'\"":
            j = _skip_quoted(text, j)
            continue
        if text.startswith(open_, j):
            depth += 1
            j += len(open_)
            continue
        if text.startswith(close, j):
            depth -= 1
            if depth == 0:
                return j
            j += len(close)
            continue
        j += 1
    return -1


def _word_at(text: str, i: int) -> int:
    """End index of the shell word starting at i."""
    j = i
    while j < len(text) and text[j] not in _WORD_END:
        j = _skip_quoted(text, j) if text[j] in "\\'\"" else j + 1
    return j


def _case(text: str, i: int, arith: list[str]) -> tuple[str, int] | None:
    """Rewrite the `case` starting at i; (replacement, end index) or None."""
    m = re.compile(r"case[ \t]+").match(text, i)
    if not m:
        return None
    w_end = _word_at(text, m.end())
    subject = text[m.end() : w_end]
    m_in = re.compile(r"[ \t\n]+in[ \t\n;]").match(text, w_end)
    if not m_in:
        return None
    j = m_in.end()
    branches: list[tuple[list[str], str]] = []
    while True:
        while j < len(text) and text[j] in " \t\n;":
            j += 1
        if text.startswith("esac", j):
            j += 4
            break
        if j >= len(text):
            return None
        if text[j] == "(":
            j += 1
        patterns, start = [], j
        while j < len(text) and text[j] != ")":
            if text[j] in "\\'\"":
                j = _skip_quoted(text, j)
            elif text[j] == "|":
                patterns.append(text[start:j].strip())
                j += 1
                start = j
            else:
                j += 1
        patterns.append(text[start:j].strip())
        j += 1
        body_start, depth = j, 0
        while j < len(text):
            if text[j] in "\\'\"":
                j = _skip_quoted(text, j)
                continue
            if text.startswith("case", j) and _at_word_start(text, j):
                depth += 1
            elif text.startswith("esac", j) and _at_word_start(text, j):
                if depth == 0:
                    break
                depth -= 1
            elif text.startswith(";;", j) and depth == 0:
                break
            j += 1
        branches.append((patterns, text[body_start:j].strip()))
        if text.startswith(";;", j):
            j += 2
    parts = []
    for n, (patterns, body) in enumerate(branches):
        body = rewrite_source(body, arith)[0] if body else ":"
        quoted = " ".join("'" + p.replace("'", "'\\''") + "'" for p in patterns)
        keyword = "if" if n == 0 else "elif"
        parts.append(f"{keyword} __case {subject} {quoted}; then {body}\n")
    out = "".join(parts) + "fi" if parts else ":"
    # keep later line numbers (error messages quote them) where the original was longer
    missing = text.count("\n", i, j) - out.count("\n")
    return out + "\n" * max(0, missing), j


def rewrite_source(script: str, arith: list[str] | None = None) -> tuple[str, list[str]]:
    """The rewritten script and its arithmetic table."""
    arith = [] if arith is None else arith
    out: list[str] = []
    i = 0
    while i < len(script):
        c = script[i]
        if c in "\\'\"":
            if c == '"':
                end = _skip_quoted(script, i)
                inner, _ = rewrite_source(script[i + 1 : end - 1], arith) if end - 1 > i else ("", arith)
                out.append('"' + inner + '"')
                i = end
                continue
            end = _skip_quoted(script, i)
            out.append(script[i:end])
            i = end
            continue
        if c == "#" and _at_word_start(script, i):
            end = script.find("\n", i)
            end = len(script) if end < 0 else end
            out.append(script[i:end])
            i = end
            continue
        if script.startswith("$((", i):
            end = _matching(script, i + 1, "(", ")")
            if end > 0 and script[end - 1] == ")":
                arith.append(script[i + 3 : end - 1])
                out.append(f"${{__arith_{len(arith) - 1}}}")
                i = end + 1
                continue
        if script.startswith("[[", i) and _at_word_start(script, i) and script[i + 2 : i + 3] in (" ", "\t"):
            out.append("__dbl_test")
            i += 2
            continue
        if script.startswith("]]", i) and _at_word_start(script, i):
            out.append("__dbl_test_end")
            i += 2
            continue
        if script.startswith("case", i) and _at_command_start(script, i) and script[i + 4 : i + 5] in " \t":
            done = _case(script, i, arith)
            if done is not None:
                out.append(done[0])
                i = done[1]
                continue
        out.append(c)
        i += 1
    return "".join(out), arith


def rewrite(script: str) -> tuple[str, list[str]]:
    """`rewrite_source` with a fresh arithmetic table."""
    return rewrite_source(script, [])


QUOTED_HEREDOC = "__QUOTED"
_HEREDOC = re.compile(r"<<(-?)[ \t]*(?:'(\w+)'|\"(\w+)\"|\\(\w+))")


def unquote_heredocs(script: str) -> str:
    """`<<'EOF'` / `<<"EOF"` / `<<\\EOF` (bodies taken literally), which bashlex cannot parse, as
    `<<EOF__QUOTED` with the terminator line renamed to match."""
    out, pos = [], 0
    for m in _HEREDOC.finditer(script):
        if m.start() < pos:
            continue
        word = m.group(2) or m.group(3) or m.group(4)
        new = word + QUOTED_HEREDOC
        body_start = script.find("\n", m.end())
        if body_start < 0:
            continue
        end = re.compile(rf"^(\t*){re.escape(word)}$", re.M).search(script, body_start + 1)
        if end is None:
            continue
        out.append(script[pos : m.start()] + f"<<{m.group(1)}{new}" + script[m.end() : end.start()])
        out.append(end.group(1) + new)
        pos = end.end()
    out.append(script[pos:])
    return "".join(out)
