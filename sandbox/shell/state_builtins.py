"""Builtins that read or change the shell's own state: variables, options, the working directory,
positional parameters, control flow (`exec`, `eval`, `.`, `break`, `return`), jobs and lookups."""

from __future__ import annotations

import fnmatch
import re

from sandbox.shell.context import Call, Command, FunctionReturn, Gen, LoopControl
from sandbox.shell.process import ExitProcess, Wait
from sandbox.shell.streams import Zeros
from sandbox.shell.words import expand_pattern


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
    names = call.words or ["REPLY"]
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
        yield Wait(tuple(jobs))
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
    for name in call.words:
        if name in _builtin_names() or name in call.sh.functions:
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


STATE_BUILTINS: dict[str, Command] = {
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
}


def _builtin_names() -> set[str]:
    from sandbox.shell.builtins import BUILTINS

    return set(BUILTINS)
