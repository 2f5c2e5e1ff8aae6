"""Shell builtins: what every /bin/sh has whatever the image (echo, printf, test, exit, set …)."""

from __future__ import annotations

import re

from sandbox.shell import testexpr
from sandbox.shell.context import Call, Command, Gen, exits
from sandbox.shell.process import ExitProcess
from sandbox.shell.state_builtins import STATE_BUILTINS

_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "\\": "\\",
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
}


def unescape(text: str) -> tuple[str, bool]:
    """Backslash escapes as echo -e / printf %b read them; (text, stop) where `\\c` stops output."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "c":
                return "".join(out), True
            if n in _ESCAPES:
                out.append(_ESCAPES[n])
                i += 2
                continue
            m = re.match(r"0?([0-7]{1,3})", text[i + 1 : i + 5])
            if m:
                out.append(chr(int(m.group(1), 8)))
                i += 1 + len(m.group(0))
                continue
        out.append(c)
        i += 1
    return "".join(out), False


def _echo(call: Call) -> Gen:
    args, newline, escapes = call.argv[1:], True, call.sh.flavour == "dash"
    while args and re.fullmatch(r"-[neE]+", args[0]) and not (call.sh.flavour == "dash" and args[0] != "-n"):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or (escapes and "E" not in args[0])
        args = args[1:]
    text = " ".join(args)
    stop = False
    if escapes:
        text, stop = unescape(text)
    call.io.out.write(text + ("\n" if newline and not stop else ""))
    return 0
    yield


def format_printf(fmt: str, args: list[str]) -> tuple[str, str | None]:
    """printf's output and an error (`invalid number`) if an argument did not convert."""
    spec = re.compile(r"%([-+ #0]*)(\*|\d+)?(?:\.(\d+))?([sdiouxXfeEgGcb%])")
    out: list[str] = []
    error = None
    pending = list(args)
    while True:
        used = 0
        current = pending

        def conv(m: re.Match[str], current: list[str] = current) -> str:
            nonlocal used, error
            flags, width, prec, kind = m.groups()
            if kind == "%":
                return "%"
            arg = current[used] if used < len(current) else ""
            used += 1
            if kind == "b":
                return unescape(arg)[0]
            pyspec = "%" + flags + (width or "") + (f".{prec}" if prec else "")
            if kind in "diouxXc":
                if kind == "c":
                    return (pyspec + "s") % arg[:1]
                try:
                    n = int(arg, 0) if arg.strip() else 0
                except ValueError:
                    error = f"invalid number '{arg}'"
                    n = 0
                return (pyspec + ("d" if kind in "iu" else kind)) % n
            if kind in "feEgG":
                try:
                    return (pyspec + kind) % float(arg or 0)
                except ValueError:
                    error = f"invalid number '{arg}'"
                    return (pyspec + kind) % 0.0
            return (pyspec + "s") % arg

        text = spec.sub(conv, fmt)
        out.append(unescape(text)[0])
        pending = pending[used:]
        if not pending or used == 0:
            break
    return "".join(out), error


def _printf(call: Call) -> Gen:
    if len(call.argv) < 2:
        call.io.error(
            "printf: usage: printf format [arguments]"
            if call.sh.flavour == "bash"
            else "printf: missing format"
        )
        return 2 if call.sh.flavour == "bash" else 1
    text, error = format_printf(call.argv[1], call.argv[2:])
    call.io.out.write(text)
    if error:
        call.io.error(
            f"{call.sh.prefix()}printf: {error}" if call.sh.flavour != "ash" else f"printf: {error}"
        )
        return 1
    return 0
    yield


def _test(call: Call) -> Gen:
    args = call.argv[1:]
    name = call.name
    extended = name == "__dbl_test"
    if name in ("[", "__dbl_test"):
        closing = "]" if name == "[" else "__dbl_test_end"
        if not args or args[-1] != closing:
            call.io.error(f"{call.sh.prefix()}{'[' if name == '[' else '[['}: missing ']'")
            return 2
        args = args[:-1]
    try:
        return 0 if testexpr.evaluate(args, call.sh.container.fs, call.sh.cwd, extended) else 1
    except testexpr.TestError as err:
        label = "[" if name == "[" else ("[[" if extended else "test")
        call.io.error(f"{call.sh.prefix()}{label}: {err}")
        return 2
    yield


def _exit(call: Call) -> Gen:
    arg = call.argv[1] if len(call.argv) > 1 else None
    if arg is None:
        raise ExitProcess(call.sh.status)
    if not re.fullmatch(r"-?\d+", arg):
        call.io.error(
            f"{call.sh.prefix()}exit: Illegal number: {arg}"
            if call.sh.flavour != "bash"
            else f"{call.sh.prefix()}exit: {arg}: numeric argument required"
        )
        raise ExitProcess(2)
    raise ExitProcess(int(arg) & 0xFF)
    yield


_true = _noop = exits(0)


BUILTINS: dict[str, Command] = {
    **STATE_BUILTINS,
    "echo": _echo,
    "printf": _printf,
    "test": _test,
    "[": _test,
    "__dbl_test": _test,
    "true": _true,
    ":": _true,
    "false": exits(1),
    "exit": _exit,
    "trap": _noop,
    "ulimit": _noop,
    "umask": _noop,
    "shopt": _noop,
    "hash": _noop,
}
