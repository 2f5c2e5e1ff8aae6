"""What a Python program does, read from its source — never executed.

Source from `python -c` or a mounted script is parsed with `ast` and simulated: imports of
packages the image lacks fail with ModuleNotFoundError; print() writes (block-buffered to a
pipe unless -u / PYTHONUNBUFFERED / flush=True, as CPython does); time.sleep() sleeps; big
allocations (`' ' * 10**9`, `bytearray(n)`, `[0] * n`, appends in a loop) use memory;
sys.exit() exits; `raise` prints a traceback; http.server / socketserver / app.run listen.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Generator
from typing import Any

from sandbox.shell.interp import Call
from sandbox.shell.process import INF, Listener, Sleep

ALLOC_RATE = float(1 << 31)
PIPE_BUFFER = 8192
MAX_STEPS = 10_000
STDLIB = frozenset(sys.stdlib_module_names)


class _Exit(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _Raise(Exception):
    def __init__(self, text: str, line: int) -> None:
        super().__init__(text)
        self.text, self.line = text, line


def _const(node: ast.AST, env: dict[str, Any]) -> Any:
    """The value of a constant-ish expression (numbers, strings, env lookups, names bound earlier)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return env.get(node.id)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for v in node.values:
            val = _const(v.value, env) if isinstance(v, ast.FormattedValue) else _const(v, env)
            parts.append("" if val is None else str(val))
        return "".join(parts)
    if isinstance(node, ast.BinOp):
        a, b = _const(node.left, env), _const(node.right, env)
        if isinstance(a, int | float) and isinstance(b, int | float):
            if isinstance(node.op, ast.Pow) and abs(b) < 64:
                return a**b
            ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b}
            fn = ops.get(type(node.op))
            return fn() if fn else None
        if isinstance(a, str) and isinstance(b, str) and isinstance(node.op, ast.Add):
            return a + b
        return None
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        args = [_const(a, env) for a in node.args]
        if name in ("os.environ.get", "os.getenv") and args:
            return env.get("__environ__", {}).get(args[0], args[1] if len(args) > 1 else None)
        if name in ("int", "float", "str") and args and args[0] is not None:
            try:
                return {"int": int, "float": float, "str": str}[name](args[0])
            except ValueError:
                return None
    if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
        return env.get("__environ__", {}).get(_const(node.slice, env))
    return None


def _alloc_size(node: ast.AST, env: dict[str, Any]) -> float:
    """Bytes an expression allocates (0 when it is not a recognisable big allocation)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for seq, count in ((node.left, node.right), (node.right, node.left)):
            n = _const(count, env)
            if isinstance(n, int) and isinstance(seq, ast.Constant) and isinstance(seq.value, str | bytes):
                return float(len(seq.value) * n)
            if isinstance(n, int) and isinstance(seq, ast.List):
                return float(8 * len(seq.elts) * n)
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        n = _const(node.args[0], env) if node.args else None
        if name in ("bytearray", "bytes", "os.urandom") and isinstance(n, int):
            return float(n)
        if name in ("list", "range") and node.args and isinstance(node.args[0], ast.Call):
            inner = _const(node.args[0].args[0], env) if node.args[0].args else None
            return float(8 * inner) if isinstance(inner, int) else 0.0
        if name.endswith(("np.zeros", "numpy.zeros", "np.ones", "numpy.ones")) and isinstance(n, int):
            return float(8 * n)
    if isinstance(node, ast.ListComp):
        gen = node.generators[0]
        if isinstance(gen.iter, ast.Call) and ast.unparse(gen.iter.func) == "range" and gen.iter.args:
            n = _const(gen.iter.args[0], env)
            each = _alloc_size(node.elt, env) or 8.0
            return float(each * n) if isinstance(n, int) else 0.0
    return 0.0


class PythonSim:
    """Simulates one Python program over the container's process model."""

    def __init__(self, call: Call, filename: str, unbuffered: bool) -> None:
        self.call = call
        self.filename = filename
        self.unbuffered = unbuffered
        self.buffer = ""
        self.env: dict[str, Any] = {"__environ__": dict(call.env)}
        self.steps = 0
        self.source_lines: list[str] = []

    def write(self, text: str, flush: bool = False) -> None:
        self.buffer += text
        if self.unbuffered or flush or len(self.buffer) >= PIPE_BUFFER:
            self.call.io.out.write(self.buffer)
            self.buffer = ""

    def run(self, source: str) -> Generator[Any, None, int]:
        self.source_lines = source.splitlines()
        try:
            tree = ast.parse(source, self.filename)
        except SyntaxError as err:
            self.call.io.error(f'  File "{self.filename}", line {err.lineno}')
            if err.text:
                self.call.io.error(f"    {err.text.strip()}")
                self.call.io.error(
                    "    "
                    + " " * max((err.offset or 1) - 1 - (len(err.text) - len(err.text.lstrip())), 0)
                    + "^"
                )
            self.call.io.error(f"SyntaxError: {err.msg}")
            return 1
        code = 0
        try:
            yield from self.block(tree.body)
        except _Exit as ex:
            code = ex.code
        except _Raise as ex:
            self.flush()
            self.traceback(ex.text, ex.line)
            return 1
        self.flush()
        return code

    def flush(self) -> None:
        if self.buffer:
            self.call.io.out.write(self.buffer)
            self.buffer = ""

    def traceback(self, text: str, line: int) -> None:
        where = "<module>"
        self.call.io.error("Traceback (most recent call last):")
        self.call.io.error(f'  File "{self.filename}", line {line}, in {where}')
        if self.filename != "<string>" and 0 < line <= len(self.source_lines):
            self.call.io.error(f"    {self.source_lines[line - 1].strip()}")
        self.call.io.error(text)

    def block(self, body: list[ast.stmt]) -> Generator[Any, None, None]:
        for stmt in body:
            yield from self.stmt(stmt)

    def stmt(self, s: ast.stmt) -> Generator[Any, None, None]:
        self.steps += 1
        if self.steps > MAX_STEPS:
            yield Sleep(INF)
        proc = self.call.sh.container.proc
        if isinstance(s, ast.Import | ast.ImportFrom):
            names = [s.module or ""] if isinstance(s, ast.ImportFrom) else [a.name for a in s.names]
            for name in names:
                root = name.split(".")[0]
                if root and root not in STDLIB and root not in self.call.sh.container.image_modules:
                    raise _Raise(f"ModuleNotFoundError: No module named '{root}'", s.lineno)
            return
        if isinstance(s, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Expr):
            value = s.value
            if value is None:
                return
            size = _alloc_size(value, self.env)
            if isinstance(value, ast.Call) and ast.unparse(value.func).endswith(".append") and value.args:
                size = _alloc_size(value.args[0], self.env)
            if size:
                yield Sleep(size / ALLOC_RATE, grow=ALLOC_RATE)
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
                self.env[s.targets[0].id] = _const(value, self.env)
            if isinstance(value, ast.Call):
                yield from self.call_(value, s.lineno)
            yield Sleep(0.0005)
            return
        if isinstance(s, ast.While):
            forever = isinstance(s.test, ast.Constant) and bool(s.test.value)
            rounds = 0
            while forever or rounds < 1000:
                before = proc.t
                yield from self.block(s.body)
                rounds += 1
                if proc.t - before < 0.001:
                    yield Sleep(0.01)
                if not forever:
                    break
            return
        if isinstance(s, ast.For):
            n = 0
            if isinstance(s.iter, ast.Call) and ast.unparse(s.iter.func) == "range" and s.iter.args:
                n = _const(s.iter.args[-1 if len(s.iter.args) == 1 else 1], self.env) or 0
            for k in range(min(int(n), 100_000)):
                if isinstance(s.target, ast.Name):
                    self.env[s.target.id] = k
                yield from self.block(s.body)
            return
        if isinstance(s, ast.If):
            test = _const(s.test, self.env) if not isinstance(s.test, ast.Compare) else None
            branch = s.body if test else s.orelse
            if isinstance(s.test, ast.Compare) and ast.unparse(s.test) == "__name__ == '__main__'":
                branch = s.body
            yield from self.block(branch)
            return
        if isinstance(s, ast.Raise) and s.exc is not None:
            exc = s.exc
            name = ast.unparse(exc.func if isinstance(exc, ast.Call) else exc)
            if name in ("SystemExit",):
                arg = _const(exc.args[0], self.env) if isinstance(exc, ast.Call) and exc.args else 0
                raise _Exit(int(arg) if isinstance(arg, int) else 1)
            msg = _const(exc.args[0], self.env) if isinstance(exc, ast.Call) and exc.args else None
            raise _Raise(f"{name}: {msg}" if msg is not None else name, s.lineno)
        if isinstance(s, ast.Try):
            yield from self.block(s.body)
            return
        if isinstance(s, ast.With):
            yield from self.block(s.body)

    def call_(self, node: ast.Call, line: int) -> Generator[Any, None, None]:
        name = ast.unparse(node.func)
        args = [_const(a, self.env) for a in node.args]
        kw = {k.arg: k.value for k in node.keywords}
        if name == "print":
            sep = _const(kw["sep"], self.env) if "sep" in kw else " "
            end = _const(kw["end"], self.env) if "end" in kw else "\n"
            flush = "flush" in kw and bool(_const(kw["flush"], self.env))
            target = ast.unparse(kw["file"]) if "file" in kw else ""
            text = str(sep).join("" if a is None else str(a) for a in args) + str(end)
            if target == "sys.stderr":
                self.call.io.err.write(text)
            else:
                self.write(text, flush)
        elif name in ("time.sleep", "sleep") and args and isinstance(args[0], int | float):
            yield Sleep(float(args[0]))
        elif name in ("sys.exit", "exit", "quit", "os._exit"):
            arg = args[0] if args else 0
            if isinstance(arg, str):
                self.flush()
                self.call.io.error(arg)
                raise _Exit(1)
            raise _Exit(int(arg or 0) & 0xFF)
        elif name == "sys.stdout.flush":
            self.flush()
        elif name.endswith(("serve_forever", ".run", "run_simple")) or name in ("uvicorn.run", "web.run_app"):
            yield from self.listen(node, line)
        elif name.endswith(("HTTPServer", "TCPServer", "ThreadingHTTPServer")) and args:
            addr = node.args[0]
            if isinstance(addr, ast.Tuple) and len(addr.elts) == 2:
                self.env["__port__"] = _const(addr.elts[1], self.env)

    def listen(self, node: ast.Call, line: int) -> Generator[Any, None, None]:
        port = self.env.get("__port__")
        for k in node.keywords:
            if k.arg == "port":
                port = _const(k.value, self.env)
        if not isinstance(port, int):
            port = 5000 if ast.unparse(node.func).endswith(".run") else 8000
        self.flush()
        self.call.sh.container.proc.listen(Listener(port, "http", lambda m, p: (200, "OK")))
        yield Sleep(INF)
