"""Language runtimes and plain OS images: python, node, go, java, ruby, php, perl, busybox,
alpine, debian, ubuntu. Without a command most of them start an interactive program that reads
its empty stdin and exits 0 at once (Completed — a CrashLoopBackOff under a Deployment, as on a
real cluster); with one, they run it."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from sandbox.profiles.jssim import STRING as _STRING
from sandbox.profiles.jssim import node
from sandbox.profiles.model import register
from sandbox.profiles.pysim import STDLIB, PythonSim
from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import INF, Listener, Sleep


def python(call: Call) -> Generator[Any, None, int]:
    """python / python3: `-c code`, `-m module`, a script, or the REPL (exits at EOF on stdin)."""
    args = list(call.argv[1:])
    c = call.sh.container
    unbuffered = bool(call.env.get("PYTHONUNBUFFERED"))
    version = getattr(c.image, "version", "") or "3.12.7"
    while args and args[0].startswith("-") and args[0] not in ("-c", "-m", "-"):
        flag = args.pop(0)
        if "u" in flag[1:]:
            unbuffered = True
        if flag in ("-V", "--version"):
            call.io.print(f"Python {version}")
            return 0
    if not args or args[0] == "-":
        return 0  # the REPL / stdin script: a pod's stdin is empty, so it reads EOF and exits
    if args[0] == "-c":
        return (yield from PythonSim(call, "<string>", unbuffered).run(args[1] if len(args) > 1 else ""))
    if args[0] == "-m":
        module = args[1] if len(args) > 1 else ""
        if module == "http.server":
            port = int(next((a for a in args[2:] if a.isdigit()), "8000"))
            fs = c.fs

            def listing(method: str, path: str) -> tuple[int, str]:
                target = fs.resolve(path.split("?", 1)[0], call.sh.cwd)
                if fs.is_dir(target):
                    return 200, "".join(f'<li><a href="{n}">{n}</a></li>\n' for n in fs.listdir(target))
                return (200, fs.read(target)) if fs.is_file(target) else (404, "")

            c.proc.listen(Listener(port, "http", listing))
            call.io.print(f"Serving HTTP on 0.0.0.0 port {port} (http://0.0.0.0:{port}/) ...")
            yield Sleep(INF)
        root = module.split(".")[0]
        if root not in STDLIB and root not in c.image_modules:
            call.io.error(f"/usr/local/bin/python: No module named {module}")
            return 1
        yield Sleep(1.0)
        return 0
    path = call.path(args[0])
    if not c.fs.is_file(path):
        call.io.error(f"python3: can't open file '{path}': [Errno 2] No such file or directory")
        return 2
    return (yield from PythonSim(call, args[0], unbuffered).run(c.fs.read(path)))


def _pi(digits: int) -> str:
    """π to `digits` significant digits (Machin's formula in integers)."""
    scale = 10 ** (digits + 10)

    def arctan_inv(x: int) -> int:
        total = term = scale // x
        n, sign = 1, 1
        while term:
            term //= x * x
            n += 2
            sign = -sign
            total += sign * (term // n)
        return total

    pi = 4 * (4 * arctan_inv(5) - arctan_inv(239))
    text = str(pi // 10**10)
    return text[0] + "." + text[1:digits]


def perl(call: Call) -> Gen:
    """perl -e / -le: print, bpi(N) (the Kubernetes Job example), sleep, exit."""
    args = call.argv[1:]
    code = next(
        (args[k + 1] for k, a in enumerate(args) if re.fullmatch(r"-\w*e", a) and k + 1 < len(args)), None
    )
    if code is None:
        if args and not call.sh.container.fs.is_file(call.path(args[0])):
            call.io.error(f'Can\'t open perl script "{args[0]}": No such file or directory')
            return 2
        return 0
    newline = any(re.fullmatch(r"-\w*l\w*", a) for a in args)
    m = re.search(r"bpi\(\s*(\d+)\s*\)", code)
    if m:
        n = int(m.group(1))
        yield Sleep(min(60.0, 2.0 + n / 250))
        call.io.out.write(_pi(n) + ("\n" if newline else ""))
        return 0
    for sm in re.finditer(r"print\s+" + _STRING + r"|sleep\s*\(?\s*(\d+)|exit\s*\(?\s*(\d+)", code):
        if sm.group(2) is not None:
            call.io.out.write(sm.group(2).replace("\\n", "\n") + ("\n" if newline else ""))
        elif sm.group(3):
            yield Sleep(float(sm.group(3)))
        elif sm.group(4):
            return int(sm.group(4))
    return 0


def ruby(call: Call) -> Gen:
    """ruby -e: puts, sleep, loop, exit; irb exits at EOF."""
    args = call.argv[1:]
    code = args[1] if len(args) > 1 and args[0] == "-e" else None
    if code is None:
        return 0
    lines = [m.group(2) for m in re.finditer(r"puts\s*\(?\s*" + _STRING, code)]
    pause = re.search(r"sleep\s*\(?\s*(\d+)", code)
    while True:
        for line in lines:
            call.io.print(line)
        if not re.search(r"\bloop\b|while true", code):
            break
        yield Sleep(float(pause.group(1)) if pause else 1.0)
    m = re.search(r"exit\s*\(?\s*(\d+)", code)
    return int(m.group(1)) if m else 0


def _interactive(banner: str = "") -> Any:
    def run(call: Call) -> Gen:
        if banner and len(call.argv) == 1:
            call.io.print(banner)
        if len(call.argv) > 1 and call.argv[1] in ("version", "-version", "--version"):
            call.io.print(f"{call.name} version {getattr(call.sh.container.image, 'version', '')}")
        return 0
        yield

    return run


def java(call: Call) -> Gen:
    """java -jar x.jar / -version; jshell exits at EOF."""
    args = call.argv[1:]
    if "-version" in args or "--version" in args:
        call.io.error(f'openjdk version "{getattr(call.sh.container.image, "version", "") or "17.0.13"}"')
        return 0
    if "-jar" in args:
        jar = args[args.index("-jar") + 1] if args.index("-jar") + 1 < len(args) else ""
        if not call.sh.container.fs.is_file(call.path(jar)):
            call.io.error(f"Error: Unable to access jarfile {jar}")
            return 1
        yield Sleep(INF)
    if not args:
        call.io.error("Usage: java [options] <mainclass> [args...]")
        return 1
    call.io.error(f"Error: Could not find or load main class {args[-1]}")
    call.io.error(f"Caused by: java.lang.ClassNotFoundException: {args[-1]}")
    return 1


def golang(call: Call) -> Gen:
    """go version / go run (needs the source in the container)."""
    args = call.argv[1:]
    if args[:1] == ["version"]:
        call.io.print(
            f"go version go{getattr(call.sh.container.image, 'version', '') or '1.23.4'} linux/amd64"
        )
        return 0
    if args[:1] == ["run"] and len(args) > 1 and not call.sh.container.fs.exists(call.path(args[1])):
        call.io.error(f"stat {args[1]}: no such file or directory")
        return 1
    return 0
    yield


_PY_ENV = (("PYTHONDONTWRITEBYTECODE", ""),)
register("python", {"python": python, "python3": python})
register(
    "node",
    {
        "node": node,
        "npm": _interactive(),
        "docker-entrypoint.sh": lambda call: call.sh.invoke(
            call.argv[1:] or ["node"]
            if not call.argv[1:] or not call.argv[1].startswith("-")
            else ["node", *call.argv[1:]],
            call.io,
            call.env,
            tail=True,
        ),
    },
)
register("golang", {"go": golang})
register("java", {"java": java, "jshell": _interactive()})
register("java-server", {"java": java, "catalina.sh": lambda call: _forever(call, 8080)})
register("ruby", {"ruby": ruby, "irb": _interactive()})
register(
    "php",
    {
        "php": _interactive("Interactive shell\n"),
        "docker-php-entrypoint": lambda call: call.sh.invoke(
            call.argv[1:] or ["php", "-a"], call.io, call.env, tail=True
        ),
    },
)
register("perl", {"perl": perl})


def _forever(call: Call, port: int) -> Gen:
    call.sh.container.proc.listen(Listener(port, "http", lambda m, p: (200, "")))
    yield Sleep(INF)
    return 0
