"""What a JavaScript program does, read from its source — never executed: console.log lines,
setInterval timers, an http server's listen(), require() of packages the image lacks (Cannot
find module), big Buffers and Arrays (memory), process.exit()."""

from __future__ import annotations

import re
from collections.abc import Generator
from typing import Any

from sandbox.shell.interp import Call, Gen
from sandbox.shell.process import INF, Listener, Sleep

_NODE_MISSING = """node:internal/modules/cjs/loader:1228
  throw err;
  ^

Error: Cannot find module '{path}'
    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)
    at Module._load (node:internal/modules/cjs/loader:1051:27)
    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:174:12)
    at node:internal/main/run_main_module:28:49 {{
  code: 'MODULE_NOT_FOUND',
  requireStack: []
}}

Node.js v{version}"""
STRING = r"""(['"`])((?:\\.|(?!\1).)*)\1"""


def _js(call: Call, source: str) -> Generator[Any, None, int]:
    """A JavaScript program read, not run: console.log, timers, http listen, require, exit."""
    version = getattr(call.sh.container.image, "version", "") or "20.18.0"
    for m in re.finditer(r"require\(\s*['\"]([^'\"./][^'\"]*)['\"]\s*\)", source):
        module = m.group(1).removeprefix("node:")
        builtin = {
            "http",
            "https",
            "fs",
            "os",
            "path",
            "net",
            "crypto",
            "util",
            "events",
            "child_process",
            "url",
        }
        if module.split("/")[0] not in builtin:
            call.io.error(_NODE_MISSING.format(path=module, version=version))
            return 1
    listen = re.search(r"\.listen\(\s*(\d+)", source)
    interval = re.search(r"setInterval\(.*?,\s*(\d+)\s*\)", source, re.S)
    logs = [m.group(2) for m in re.finditer(r"console\.(?:log|error|info)\(\s*" + STRING, source)]
    size = re.search(r"Buffer\.alloc\(\s*([\d.e*]+)\s*\)|new Array\(\s*([\d.e*]+)\s*\)\.fill", source)
    exit_m = re.search(r"process\.exit\(\s*(\d+)\s*\)", source)
    if size:
        n = 1.0
        for factor in (size.group(1) or size.group(2)).split("*"):
            try:
                n *= float(factor) if factor else 0.0
            except ValueError:
                n = 0.0
        yield Sleep(n * (1 if size.group(1) else 8) / float(1 << 31), grow=float(1 << 31))
    if not interval:
        for line in logs:
            call.io.print(line)
    if listen:
        call.sh.container.proc.listen(Listener(int(listen.group(1)), "http", lambda m, p: (200, "OK")))
    if interval:
        every = int(interval.group(1)) / 1000.0
        while True:
            yield Sleep(every)
            for line in logs:
                call.io.print(line)
    if listen:
        yield Sleep(INF)
    return int(exit_m.group(1)) if exit_m else 0


def node(call: Call) -> Gen:
    """node: `-e code`, a script, or the REPL (exits at EOF)."""
    args = [a for a in call.argv[1:] if a not in ("--trace-warnings",)]
    c = call.sh.container
    if args and args[0] in ("-v", "--version"):
        call.io.print("v" + (getattr(c.image, "version", "") or "20.18.0"))
        return 0
    if not args:
        return 0
    if args[0] in ("-e", "--eval", "-p"):
        return (yield from _js(call, args[1] if len(args) > 1 else ""))
    path = call.path(args[0])
    if not c.fs.is_file(path):
        version = getattr(c.image, "version", "") or "20.18.0"
        call.io.error(_NODE_MISSING.format(path=path, version=version))
        return 1
    return (yield from _js(call, c.fs.read(path)))
