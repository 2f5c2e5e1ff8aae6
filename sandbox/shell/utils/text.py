"""Text filters: grep, wc, sort, uniq, cut, tr, sed `s///`, awk `{print $N}`, base64."""

from __future__ import annotations

import base64
import binascii
import re

from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.streams import Zeros
from sandbox.shell.utils.files import Inputs, _flags, read_input


def _bre(pattern: str) -> str:
    """A POSIX basic regular expression as Python's `re` reads it."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            n = pattern[i + 1]
            out.append(
                {"(": "(", ")": ")", "|": "|", "{": "{", "}": "}", "+": "+", "?": "?"}.get(n, "\\" + n)
            )
            i += 2
            continue
        out.append("\\" + c if c in "(){}|+?" else c)
        i += 1
    return "".join(out)


def _text(call: Call, operands: list[str]) -> tuple[str, int]:
    inputs = Inputs(call, operands, failed=2 if call.name == "grep" else 1)
    chunks = [data for data in inputs if not isinstance(data, Zeros)]
    return "".join(chunks), inputs.status


def _grep(call: Call) -> Gen:
    args = list(call.argv[1:])
    flags: set[str] = set()
    patterns: list[str] = []
    while args and args[0].startswith("-") and args[0] != "-":
        a = args.pop(0)
        if a in ("-e",) and args:
            patterns.append(args.pop(0))
        elif a.startswith("--"):
            flags.add(a)
        else:
            flags.update(a[1:])
    if not patterns:
        if not args:
            call.io.error("Usage: grep [OPTIONS] PATTERN [FILE]...")
            return 2
        patterns.append(args.pop(0))
    text, status = _text(call, args)
    rx_text = "|".join(re.escape(p) if "F" in flags else (p if "E" in flags else _bre(p)) for p in patterns)
    if "w" in flags:
        rx_text = rf"\b(?:{rx_text})\b"
    try:
        rx = re.compile(rx_text, re.I if "i" in flags else 0)
    except re.error:
        call.io.error(f"grep: bad regex '{patterns[0]}'")
        return 2
    hits = [ln for ln in text.splitlines() if bool(rx.search(ln)) != ("v" in flags)]
    if "q" not in flags:
        if "c" in flags:
            call.io.print(str(len(hits)))
        elif "o" in flags:
            for ln in hits:
                for m in rx.finditer(ln):
                    call.io.print(m.group(0))
        else:
            for ln in hits:
                call.io.print(ln)
    return status or (0 if hits else 1)
    yield


def _wc(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    data = read_input(call, operands[0] if operands else None)
    if data is None:
        return 1
    if isinstance(data, Zeros):
        counts = {"l": 0, "w": 0, "c": int(data.count)}
    else:
        counts = {"l": data.count("\n"), "w": len(data.split()), "c": len(data.encode())}
    wanted = [k for k in "lwc" if k in flags] or ["l", "w", "c"]
    values = [str(counts[k]) for k in wanted]
    name = f" {operands[0]}" if operands else ""
    call.io.print((" ".join(values) if len(values) == 1 else " ".join(f"{v:>7}" for v in values)) + name)
    return 0
    yield


def _numeric_prefix(line: str) -> float:
    """`sort -n`'s key: the leading number of a line (0 when there is none)."""
    match = re.match(r"-?\d*\.?\d*", line)
    try:
        return float(match.group(0)) if match and match.group(0) else 0.0
    except ValueError:  # "-" or "." alone
        return 0.0


def _sort_uniq(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    text, status = _text(call, operands)
    lines = text.splitlines()
    if call.name == "sort":
        lines = sorted(lines, key=_numeric_prefix if "n" in flags else None)
        if "r" in flags:
            lines.reverse()
        if "u" in flags:
            lines = list(dict.fromkeys(lines))
    else:
        lines = [ln for k, ln in enumerate(lines) if k == 0 or lines[k - 1] != ln]
    call.io.out.write("".join(ln + "\n" for ln in lines))
    return status
    yield


def _cut(call: Call) -> Gen:
    args = call.argv[1:]
    delim, fields = "\t", ""
    rest = []
    while args:
        a = args.pop(0)
        if a.startswith("-d"):
            delim = a[2:] or (args.pop(0) if args else "\t")
        elif a.startswith("-f"):
            fields = a[2:] or (args.pop(0) if args else "")
        else:
            rest.append(a)
    text, status = _text(call, rest)
    wanted: list[int] = []
    for part in fields.split(","):
        if "-" in part:
            lo, _, hi = part.partition("-")
            wanted.extend(range(int(lo or 1), int(hi or 99) + 1))
        elif part.isdigit():
            wanted.append(int(part))
    for ln in text.splitlines():
        cols = ln.split(delim)
        call.io.print(delim.join(cols[i - 1] for i in wanted if i <= len(cols)) if delim in ln else ln)
    return status
    yield


def _tr_set(spec: str) -> str:
    """A tr set: classes (`[:upper:]`) and ranges (`a-z`) spelt out."""
    spec = spec.replace("[:lower:]", "a-z").replace("[:upper:]", "A-Z").replace("[:digit:]", "0-9")
    return re.sub(
        r"(.)-(.)", lambda m: "".join(chr(c) for c in range(ord(m.group(1)), ord(m.group(2)) + 1)), spec
    )


def _tr(call: Call) -> Gen:
    args = call.words
    data = call.io.stdin if isinstance(call.io.stdin, str) else ""
    if "-d" in call.argv and args:
        call.io.out.write("".join(c for c in data if c not in args[0]))
    elif len(args) >= 2:
        a, b = _tr_set(args[0]), _tr_set(args[1])
        b = (b + b[-1:] * len(a))[: len(a)]
        call.io.out.write(data.translate(str.maketrans(a, b)))
    else:
        call.io.out.write(data)
    return 0
    yield


def _sed(call: Call) -> Gen:
    args = [a for a in call.argv[1:] if a not in ("-e", "-E", "-r")]
    script, files = (args[0], args[1:]) if args else ("", [])
    text, status = _text(call, files)
    m = re.fullmatch(r"s(.)(.*?)\1(.*?)\1(g?)", script)
    if m:
        rx = re.compile(m.group(2) if "-E" in call.argv or "-r" in call.argv else _bre(m.group(2)))
        rep = re.sub(r"\\(\d)", r"\\\1", m.group(3)).replace("&", r"\g<0>")
        text = "".join(rx.sub(rep, ln, count=0 if m.group(4) else 1) for ln in text.splitlines(keepends=True))
    call.io.out.write(text)
    return status
    yield


def _awk(call: Call) -> Gen:
    args = list(call.argv[1:])
    sep = None
    if args and args[0].startswith("-F"):
        sep = args.pop(0)[2:] or (args.pop(0) if args else None)
    program, files = (args[0], args[1:]) if args else ("", [])
    text, status = _text(call, files)
    m = re.fullmatch(r"\s*\{\s*print\s*(.*?)\s*;?\s*\}\s*", program)
    for ln in text.splitlines():
        cols = ln.split(sep) if sep else ln.split()
        if m is None:
            continue
        exprs = [e.strip() for e in m.group(1).split(",")] if m.group(1) else ["$0"]
        out = []
        for e in exprs:
            if e == "$0":
                out.append(ln)
            elif re.fullmatch(r"\$\d+", e):
                k = int(e[1:])
                out.append(cols[k - 1] if k <= len(cols) else "")
            elif e == "$NF":
                out.append(cols[-1] if cols else "")
            else:
                out.append(e.strip('"'))
        call.io.print(" ".join(out))
    return status
    yield


def _base64(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    text, status = _text(call, operands)
    if "d" in flags:
        try:
            call.io.out.write(base64.b64decode(text).decode(errors="replace"))
        except (binascii.Error, ValueError):
            call.io.error("base64: invalid input")
            return 1
    else:
        call.io.print(base64.b64encode(text.encode()).decode())
    return status
    yield


COMMANDS: dict[str, Command] = {
    "grep": _grep,
    "egrep": _grep,
    "wc": _wc,
    "sort": _sort_uniq,
    "uniq": _sort_uniq,
    "cut": _cut,
    "tr": _tr,
    "sed": _sed,
    "awk": _awk,
    "base64": _base64,
}
