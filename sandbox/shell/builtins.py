"""Shell builtins: what every /bin/sh has whatever the image (echo, printf, test, exit, set …)."""

from __future__ import annotations

import fnmatch
import re

from sandbox.shell import testexpr
from sandbox.shell.interp import Call, Command, FunctionReturn, Gen, LoopControl, wait_jobs
from sandbox.shell.process import ExitProcess
from sandbox.shell.streams import Zeros
from sandbox.shell.words import expand_pattern

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
    out, i = [], 0
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


def _true(call: Call) -> Gen:
    return 0
    yield


def _false(call: Call) -> Gen:
    return 1
    yield


def _export(call: Call) -> Gen:
    for arg in call.argv[1:]:
        if arg.startswith("-"):
            continue
        name, eq, value = arg.partition("=")
        if eq:
            call.sh.set_var(name, value, export=call.name == "export")
        elif call.name == "export":
            call.sh.exported.add(name)
        if call.name == "local" and not eq:
            call.sh.vars.setdefault(name, "")
    return 0
    yield


def _unset(call: Call) -> Gen:
    for name in call.argv[1:]:
        if name in ("-v", "-f"):
            continue
        call.sh.vars.pop(name, None)
        call.sh.exported.discard(name)
        call.sh.functions.pop(name, None)
    return 0
    yield


def _set(call: Call) -> Gen:
    args = call.argv[1:]
    while args:
        a = args[0]
        if a in ("-o", "+o") and len(args) > 1:
            name = {"errexit": "e", "nounset": "u", "xtrace": "x", "noglob": "f", "allexport": "a"}.get(
                args[1], args[1]
            )
            (call.sh.options.add if a == "-o" else call.sh.options.discard)(name)
            args = args[2:]
            continue
        if a == "--":
            call.sh.positional = args[1:]
            return 0
        if re.fullmatch(r"[-+][a-zA-Z]+", a):
            for flag in a[1:]:
                (call.sh.options.add if a[0] == "-" else call.sh.options.discard)(flag)
            args = args[1:]
            continue
        call.sh.positional = args
        return 0
    if len(call.argv) == 1:
        for k in sorted(call.sh.vars):
            call.io.print(f"{k}='{call.sh.vars[k]}'")
    return 0
    yield


def _cd(call: Call) -> Gen:
    target = call.argv[1] if len(call.argv) > 1 else (call.sh.var("HOME") or "/")
    path = call.path(target)
    if not call.sh.container.fs.is_dir(path):
        sh = call.sh
        if sh.flavour == "bash":
            call.io.error(f"{sh.prefix()}cd: {target}: No such file or directory")
        elif sh.flavour == "dash":
            call.io.error(f"{sh.prefix()}cd: can't cd to {target}")
        else:
            call.io.error(f"{sh.prefix()}cd: can't cd to {target}: No such file or directory")
        return 1 if sh.flavour != "dash" else 2
    call.sh.cwd = path
    call.sh.set_var("PWD", path)
    return 0
    yield


def _pwd(call: Call) -> Gen:
    call.io.print(call.sh.cwd)
    return 0
    yield


def _read(call: Call) -> Gen:
    names = [a for a in call.argv[1:] if not a.startswith("-")] or ["REPLY"]
    data = call.io.stdin
    if isinstance(data, Zeros) or not data:
        for n in names:
            call.sh.set_var(n, "")
        return 1
    line, _, rest = data.partition("\n")
    call.io.stdin = rest
    parts = line.split(None, len(names) - 1)
    for k, n in enumerate(names):
        call.sh.set_var(n, parts[k] if k < len(parts) else "")
    return 0
    yield


def _shift(call: Call) -> Gen:
    n = int(call.argv[1]) if len(call.argv) > 1 and call.argv[1].isdigit() else 1
    if n > len(call.sh.positional):
        return 1
    call.sh.positional = call.sh.positional[n:]
    return 0
    yield


def _exec(call: Call) -> Gen:
    if len(call.argv) == 1:
        return 0
    status = yield from call.sh.invoke(call.argv[1:], call.io, call.env, tail=True)
    raise ExitProcess(status)


def _eval(call: Call) -> Gen:
    return (yield from call.sh.run_text(" ".join(call.argv[1:]), call.io))


def _source(call: Call) -> Gen:
    if len(call.argv) < 2:
        return 2
    fs = call.sh.container.fs
    path = call.path(call.argv[1])
    if not fs.is_file(path):
        call.io.error(f"{call.sh.prefix()}{call.name}: can't open '{call.argv[1]}'")
        raise ExitProcess(2 if call.sh.flavour != "bash" else 1)
    return (yield from call.sh.run_text(fs.read(path), call.io))


def _wait(call: Call) -> Gen:
    jobs = [j for j in call.sh.jobs if j.status is None]
    if jobs:
        yield wait_jobs(jobs)
    return jobs[-1].status if jobs and jobs[-1].status is not None else 0


def _loopctl(call: Call) -> Gen:
    n = int(call.argv[1]) if len(call.argv) > 1 and call.argv[1].isdigit() else 1
    raise LoopControl(call.name, n)
    yield


def _return(call: Call) -> Gen:
    raise FunctionReturn(
        int(call.argv[1]) if len(call.argv) > 1 and call.argv[1].isdigit() else call.sh.status
    )
    yield


def _case(call: Call) -> Gen:
    word = call.argv[1] if len(call.argv) > 1 else ""
    for raw in call.argv[2:]:
        pattern = yield from expand_pattern(call.sh, raw)
        if fnmatch.fnmatchcase(word, pattern):
            return 0
    return 1


def _type(call: Call) -> Gen:
    status = 0
    for name in [a for a in call.argv[1:] if not a.startswith("-")]:
        if name in BUILTINS or name in call.sh.functions:
            call.io.print(name if call.name == "command" else f"{name} is a shell builtin")
        elif name in call.sh.container.commands:
            call.io.print(
                f"/usr/bin/{name}" if call.name in ("command", "which") else f"{name} is /usr/bin/{name}"
            )
        else:
            status = 1
            if call.name == "type":
                call.io.print(f"{name}: not found")
    if call.name == "command" and call.argv[1:2] != ["-v"] and len(call.argv) > 1:
        return (yield from call.sh.invoke(call.argv[1:], call.io, call.env, call.tail))
    return status


def _noop(call: Call) -> Gen:
    return 0
    yield


def _sleep_builtin(call: Call) -> Gen:
    from sandbox.shell.utils.core import sleep

    return (yield from sleep(call))


BUILTINS: dict[str, Command] = {
    "echo": _echo,
    "printf": _printf,
    "test": _test,
    "[": _test,
    "__dbl_test": _test,
    "true": _true,
    ":": _true,
    "false": _false,
    "exit": _exit,
    "export": _export,
    "readonly": _export,
    "local": _export,
    "unset": _unset,
    "set": _set,
    "cd": _cd,
    "pwd": _pwd,
    "read": _read,
    "shift": _shift,
    "exec": _exec,
    "eval": _eval,
    ".": _source,
    "source": _source,
    "wait": _wait,
    "break": _loopctl,
    "continue": _loopctl,
    "return": _return,
    "__case": _case,
    "type": _type,
    "command": _type,
    "trap": _noop,
    "ulimit": _noop,
    "umask": _noop,
    "shopt": _noop,
    "hash": _noop,
}
