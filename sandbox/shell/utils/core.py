"""Process and environment utilities: sleep, env, printenv, hostname, date, timeout, seq, yes …"""

from __future__ import annotations

import operator
import re
from collections.abc import Generator
from datetime import UTC, datetime
from typing import Any

from sandbox.shell.context import exits
from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.process import INF, Sleep, Wait

_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> float | None:
    """`5`, `0.5`, `2m`, `1h`, `infinity` -> seconds; None when invalid."""
    if text in ("infinity", "inf", "Infinity"):
        return INF
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def sleep(call: Call) -> Gen:
    """`sleep N[smhd]…` / `sleep infinity`."""
    gnu = call.sh.container.gnu
    if len(call.argv) < 2:
        call.io.error("sleep: missing operand" if gnu else "Usage: sleep [N]...")
        return 1
    total = 0.0
    for arg in call.argv[1:]:
        d = parse_duration(arg)
        if d is None:
            call.io.error(
                f"sleep: invalid time interval '{arg}'" if gnu else f"sleep: invalid number '{arg}'"
            )
            if gnu:
                call.io.error("Try 'sleep --help' for more information.")
            return 1
        total += d
    yield Sleep(total)
    return 0


def with_deadline(gen: Gen, seconds: float, clock: Any) -> Generator[Any, None, int | None]:
    """Run `gen` for at most `seconds` of simulated time; None when it did not finish."""
    deadline = clock() + seconds
    try:
        effect = next(gen)
        while True:
            if isinstance(effect, Sleep) and clock() + effect.seconds > deadline:
                yield Sleep(max(0.0, deadline - clock()), effect.grow)
                gen.close()
                return None
            yield effect
            if clock() >= deadline and not isinstance(effect, Wait):
                gen.close()
                return None
            effect = gen.send(None)
    except StopIteration as stop:
        return int(stop.value or 0)


def timeout(call: Call) -> Gen:
    """`timeout [-s SIG] N cmd …`: 124 (GNU) / 143 (busybox, SIGTERM) when it runs out."""
    args = call.argv[1:]
    while args and args[0].startswith("-"):
        args = args[2:] if args[0] in ("-s", "-k") else args[1:]
    if len(args) < 2 or parse_duration(args[0]) is None:
        call.io.error("timeout: invalid time interval" if args else "timeout: missing operand")
        return 125
    proc = call.sh.container.proc
    status = yield from with_deadline(
        call.sh.invoke(args[1:], call.io, call.env), parse_duration(args[0]) or 0, lambda: proc.t
    )
    if status is None:
        return 124 if call.sh.container.gnu else 143
    return status


def _env(call: Call) -> Gen:
    args = call.argv[1:]
    env = dict(call.env)
    while args and (args[0] in ("-i", "-") or "=" in args[0]):
        if args[0] in ("-i", "-"):
            env = {}
        else:
            k, _, v = args[0].partition("=")
            env[k] = v
        args = args[1:]
    if args:
        return (yield from call.sh.invoke(args, call.io, env))
    for k, v in env.items():
        call.io.print(f"{k}={v}")
    return 0


def _printenv(call: Call) -> Gen:
    names = call.argv[1:]
    if not names:
        for k, v in call.env.items():
            call.io.print(f"{k}={v}")
        return 0
    status = 0
    for n in names:
        if n in call.env:
            call.io.print(call.env[n])
        else:
            status = 1
    return status
    yield


def _hostname(call: Call) -> Gen:
    if "-i" in call.argv or "-I" in call.argv:
        call.io.print(call.sh.container.net.pod_ip)
    else:
        call.io.print(call.sh.container.hostname)
    return 0
    yield


def _date(call: Call) -> Gen:
    now = datetime.fromtimestamp(call.sh.container.proc.t, UTC)
    fmt = next((a[1:] for a in call.argv[1:] if a.startswith("+")), None)
    if fmt is None:
        call.io.print(now.strftime("%a %b %e %H:%M:%S UTC %Y"))
    else:
        call.io.print(
            now.strftime(fmt.replace("%N", "000000000"))
            if "%s" not in fmt
            else fmt.replace("%s", str(int(call.sh.container.proc.t)))
        )
    return 0
    yield


def _seq(call: Call) -> Gen:
    nums = [a for a in call.argv[1:] if not a.startswith("-") or a[1:].isdigit()]
    try:
        vals = [int(x) for x in nums]
    except ValueError:
        call.io.error(f"seq: invalid floating point argument: '{nums[0]}'")
        return 1
    first, step, last = (
        (1, 1, vals[0]) if len(vals) == 1 else (vals[0], 1, vals[1]) if len(vals) == 2 else vals[:3]
    )
    call.io.out.write("".join(f"{i}\n" for i in range(first, last + (1 if step > 0 else -1), step or 1)))
    return 0
    yield


def _yes(call: Call) -> Gen:
    word = " ".join(call.argv[1:]) or "y"
    if hasattr(call.io.out, "parts"):  # into a pipe: enough for any reader of lines
        call.io.out.write((word + "\n") * 1000)
        return 0
    while True:  # to the log: it never stops
        call.io.out.write((word + "\n") * 100)
        yield Sleep(0.01)


def _ident(call: Call) -> Gen:
    if call.name == "whoami":
        call.io.print("root")
    elif call.name == "id":
        call.io.print("uid=0(root) gid=0(root) groups=0(root)")
    elif call.name == "uname":
        full = "-a" in call.argv
        call.io.print(
            f"Linux {call.sh.container.hostname} 6.8.0-1015 #16 SMP x86_64 GNU/Linux" if full else "Linux"
        )
    elif call.name == "nproc":
        call.io.print("2")
    return 0
    yield


def _paths(call: Call) -> Gen:
    if len(call.argv) < 2:
        call.io.error(f"{call.name}: missing operand")
        return 1
    p = call.argv[1]
    if call.name == "basename":
        out = p.rstrip("/").rsplit("/", 1)[-1] or "/"
        if len(call.argv) > 2 and out.endswith(call.argv[2]):
            out = out[: -len(call.argv[2])]
    else:
        head = p.rstrip("/").rsplit("/", 1)
        out = (head[0] or "/") if len(head) == 2 else "."
    call.io.print(out)
    return 0
    yield


def _nohup(call: Call) -> Gen:
    return (
        (yield from call.sh.invoke(call.argv[1:], call.io, call.env, call.tail))
        if len(call.argv) > 1
        else 125
    )


_COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _expr(call: Call) -> Gen:
    args = call.argv[1:]
    val: int | str  # a number, or `expr STRING`'s string
    try:
        if len(args) == 3 and args[1] in "+-*/%":
            a, b = int(args[0]), int(args[2])
            val = {"+": a + b, "-": a - b, "*": a * b, "/": int(a / b) if b else 0, "%": a % b if b else 0}[
                args[1]
            ]
        elif len(args) == 3 and args[1] in _COMPARE:
            a2: int | str
            b2: int | str
            try:
                a2, b2 = int(args[0]), int(args[2])
            except ValueError:
                a2, b2 = args[0], args[2]
            val = int(_COMPARE[args[1]](a2, b2))
        else:
            val = args[0] if args else ""
    except (ValueError, ZeroDivisionError):
        call.io.error("expr: non-integer argument")
        return 2
    call.io.print(str(val))
    return 0 if val not in (0, "", "0") else 1
    yield


COMMANDS: dict[str, Command] = {
    "sleep": sleep,
    "timeout": timeout,
    "env": _env,
    "printenv": _printenv,
    "hostname": _hostname,
    "date": _date,
    "seq": _seq,
    "yes": _yes,
    "whoami": _ident,
    "id": _ident,
    "uname": _ident,
    "nproc": _ident,
    "basename": _paths,
    "dirname": _paths,
    "nohup": _nohup,
    "expr": _expr,
    "kill": exits(0),
}
