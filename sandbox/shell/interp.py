"""The shell interpreter: walks a parsed script over simulated time.

One `Shell` is one shell process's state (variables, exported names, positional parameters,
functions, options, working directory). `run` executes a node as a generator of process
effects and returns its exit status; commands are looked up as functions, builtins, then the
programs the image has (`Container.commands`), else `sh: foo: not found` (127), worded like the
image's shell (busybox ash, dash, bash).
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from sandbox.shell import syntax as ast
from sandbox.shell.fs import FsError
from sandbox.shell.process import STEP_COST, ExitProcess, Process, Sleep, Wait
from sandbox.shell.streams import IO, Capture, FileWriter, LogWriter, Null, Writer
from sandbox.shell.words import ExpansionError, expand_heredoc, expand_text, expand_words

Gen = Generator[Any, None, int]


class LoopControl(Exception):
    """`break N` / `continue N`."""

    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind)
        self.kind, self.levels = kind, levels


class FunctionReturn(Exception):
    """`return N`."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Call:
    """One command invocation: what a command implementation gets."""

    sh: Shell
    argv: list[str]
    io: IO
    env: dict[str, str]
    tail: bool = False  # the script's last command (what `exec` would run)

    @property
    def name(self) -> str:
        """The command's name as invoked (basename)."""
        return posixpath.basename(self.argv[0])

    def path(self, p: str) -> str:
        """`p` made absolute against the working directory."""
        return self.sh.container.fs.resolve(p, self.sh.cwd)


Command = Callable[[Call], Gen]


@dataclass
class Container:
    """What programs in a container can reach: files, network, installed commands, identity."""

    proc: Process
    fs: Any  # sandbox.shell.fs.FileSystem
    net: Any  # sandbox.shell.net.Network
    commands: dict[str, Command]
    flavour: str = "ash"  # the image's /bin/sh: ash (busybox, alpine), dash (debian, ubuntu), bash
    gnu: bool = False  # GNU coreutils (else busybox applets)
    hostname: str = "localhost"
    image: Any = None  # profile data for programs that need it
    spec: Any = None  # the container spec (ports, probes)
    unknown_image: bool = False
    user: int = 0  # the UID it runs as
    read_only_root: bool = False
    image_modules: Any = frozenset()  # Python packages installed besides the standard library


@dataclass
class Shell:
    """The state of one shell process."""

    container: Container
    name: str = "sh"
    flavour: str = "ash"
    vars: dict[str, str] = field(default_factory=dict)
    exported: set[str] = field(default_factory=set)
    positional: list[str] = field(default_factory=list)
    functions: dict[str, ast.Node] = field(default_factory=dict)
    options: set[str] = field(default_factory=set)
    cwd: str = "/"
    status: int = 0
    arith: list[str] = field(default_factory=list)
    line: int = 1
    last_bg: Any = None
    jobs: list[Any] = field(default_factory=list)
    script_name: str | None = None  # bash names a script file in its messages

    # --- variables --------------------------------------------------------------------------

    def var(self, name: str) -> str | None:
        """A variable or special parameter (None when unset)."""
        special = {
            "?": lambda: str(self.status),
            "$": lambda: "1",
            "#": lambda: str(len(self.positional)),
            "0": lambda: self.name,
            "@": lambda: " ".join(self.positional),
            "*": lambda: " ".join(self.positional),
            "-": lambda: "".join(sorted(o for o in self.options if len(o) == 1)),
            "!": lambda: str(100 + self.last_bg.number) if self.last_bg else None,
        }
        if name in special:
            return special[name]()
        if name.isdigit():
            k = int(name)
            return self.positional[k - 1] if 0 < k <= len(self.positional) else None
        return self.vars.get(name)

    def set_var(self, name: str, value: str, export: bool = False) -> None:
        """Assign (and optionally export) a variable."""
        self.vars[name] = value
        if export or "a" in self.options:
            self.exported.add(name)

    def environ(self) -> dict[str, str]:
        """The environment a child program gets."""
        return {k: self.vars[k] for k in self.exported if k in self.vars}

    def subshell(self) -> Shell:
        """A copy for `( … )`, pipelines and command substitution."""
        return Shell(
            self.container,
            self.name,
            self.flavour,
            dict(self.vars),
            set(self.exported),
            list(self.positional),
            dict(self.functions),
            set(self.options),
            self.cwd,
            self.status,
            self.arith,
            self.line,
            self.last_bg,
            [],
            self.script_name,
        )

    # --- messages -----------------------------------------------------------------------------

    def prefix(self) -> str:
        """How this shell starts an error message (`sh: `, `sh: 3: `, `bash: line 3: `)."""
        if self.flavour == "dash":
            return f"{self.name}: {self.line}: "
        if self.flavour == "bash":
            return f"{self.script_name or self.name}: line {self.line}: "
        return f"{self.name}: "

    def not_found(self, cmd: str) -> str:
        """The shell's "command not found" line."""
        return (
            f"{self.prefix()}{cmd}: command not found"
            if self.flavour == "bash"
            else f"{self.prefix()}{cmd}: not found"
        )

    def unbound_message(self) -> str:
        """What `set -u` says about an unset variable."""
        return "unbound variable" if self.flavour == "bash" else "parameter not set"

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob pattern (relative patterns against the working directory)."""
        absolute = pattern.startswith("/")
        full = pattern if absolute else posixpath.join(self.cwd, pattern)
        depth = full.count("/")
        hits = [
            p
            for p in self.container.fs.paths()
            if p.count("/") == depth
            and fnmatch.fnmatchcase(p, full)
            and not any(part.startswith(".") for part in p.split("/")[-1:])
        ]
        if absolute:
            return sorted(hits)
        base = self.cwd.rstrip("/") + "/"
        return sorted(h[len(base) :] if h.startswith(base) else h for h in hits)

    # --- running ------------------------------------------------------------------------------

    def run_text(self, text: str, io: IO, tail: bool = False) -> Gen:
        """Parse and run a script (syntax errors: exit 2 with the shell's message)."""
        try:
            script = ast.parse(text, self.arith)
        except ast.ShellSyntaxError as err:
            if err.unsupported:
                raise
            io.error(f"{self.prefix()}syntax error: {str(err).splitlines()[0]}")
            return 2
        return (yield from self.run(script.body, io, tail=tail))

    def substitute(self, text: str) -> Generator[Any, None, str]:
        """`$(…)`: run in a subshell, the output without trailing newlines."""
        sub = self.subshell()
        cap = Capture()
        try:
            self.status = yield from sub.run_text(text, IO("", cap, self._err_writer()))
        except ExitProcess as ex:
            self.status = ex.code
        return cap.text().rstrip("\n")

    def _err_writer(self) -> Writer:
        return LogWriter(self.container.proc, "stderr")

    def run(self, node: ast.Node, io: IO, cond: bool = False, tail: bool = False) -> Gen:
        """Execute a node; its exit status."""
        if isinstance(node, ast.Simple):
            status = yield from self._simple(node, io, tail)
        elif isinstance(node, ast.Sequence):
            status = 0
            for k, (item, background) in enumerate(node.items):
                if background:
                    self._background(item, io)
                    status = 0
                    continue
                status = yield from self.run(item, io, cond, tail and k == len(node.items) - 1)
                self._errexit(status, cond)
        elif isinstance(node, ast.AndOr):
            status = yield from self.run(node.first, io, True)
            for op, item in node.rest:
                if (op == "&&") == (status == 0):
                    last = item is node.rest[-1][1]
                    status = yield from self.run(item, io, cond or not last, tail and last)
        elif isinstance(node, ast.Pipeline):
            status = yield from self._pipeline(node, io, cond)
        else:
            status = yield from self._compound(node, io, cond, tail)
        self.status = status
        return status

    def _errexit(self, status: int, cond: bool) -> None:
        if status and "e" in self.options and not cond:
            raise ExitProcess(status)

    def _background(self, node: ast.Node, io: IO) -> None:
        sub = self.subshell()
        job = self.container.proc.spawn(_guard(sub.run(node, io)))
        self.last_bg = job
        self.jobs.append(job)

    def _pipeline(self, node: ast.Pipeline, io: IO, cond: bool) -> Gen:
        data, statuses = io.stdin, []
        for k, cmd in enumerate(node.commands):
            last = k == len(node.commands) - 1
            out = io.out if last else Capture()
            runner = self if len(node.commands) == 1 else self.subshell()
            try:
                st = yield from runner.run(cmd, IO(data, out, io.err), cond or node.negate)
            except ExitProcess as ex:
                if len(node.commands) == 1:
                    raise
                st = ex.code
            statuses.append(st)
            if isinstance(out, Capture):
                data = out.data()
        status = statuses[-1]
        if "pipefail" in self.options:
            status = next((s for s in reversed(statuses) if s), 0)
        return int(not status) if node.negate else status

    def _compound(self, node: ast.Node, io: IO, cond: bool, tail: bool) -> Gen:
        if isinstance(node, ast.If):
            for test, body in node.branches:
                if (yield from self.run(test, io, True)) == 0:
                    return (yield from self.run(body, io, cond, tail))
            return (yield from self.run(node.otherwise, io, cond, tail)) if node.otherwise else 0
        if isinstance(node, ast.Loop | ast.For):
            return (yield from self._loop(node, io, cond))
        if isinstance(node, ast.Group):
            io2 = yield from self.redirect(node.redirects, io)
            if io2 is None:
                return 1
            if not node.subshell:
                return (yield from self.run(node.body, io2, cond, tail))
            try:
                return (yield from self.subshell().run(node.body, io2, cond, tail))
            except ExitProcess as ex:
                return ex.code
        if isinstance(node, ast.Function):
            self.functions[node.name] = node.body
            return 0
        raise AssertionError(node)

    def _loop(self, node: ast.Loop | ast.For, io: IO, cond: bool) -> Gen:
        status = 0
        if isinstance(node, ast.For):
            items = self.positional if node.words is None else (yield from expand_words(self, node.words))
            iterator: Any = iter(items)
        while True:
            if isinstance(node, ast.For):
                item = next(iterator, None)
                if item is None:
                    return status
                self.set_var(node.var, item)
            else:
                test = yield from self.run(node.condition, io, True)
                if (test == 0) == node.until:
                    return status
            try:
                status = yield from self.run(node.body, io, cond)
            except LoopControl as ctl:
                if ctl.levels > 1:
                    raise LoopControl(ctl.kind, ctl.levels - 1) from None
                if ctl.kind == "break":
                    return 0
            yield Sleep(STEP_COST)

    # --- simple commands ------------------------------------------------------------------------

    def _simple(self, node: ast.Simple, io: IO, tail: bool) -> Gen:
        self.line = node.line
        yield Sleep(STEP_COST)
        try:
            argv = yield from expand_words(self, node.words)
            assigns = []
            for raw in node.assigns:
                name, _, value = raw.partition("=")
                assigns.append((name, (yield from expand_text(self, value))))
        except ExpansionError as err:
            io.error(str(err))
            raise ExitProcess(1 if self.flavour == "bash" else 2) from None
        if not argv:
            for name, value in assigns:
                self.set_var(name, value)
            io2 = yield from self.redirect(node.redirects, io)
            return 0 if io2 is not None else 1
        io2 = yield from self.redirect(node.redirects, io)
        if io2 is None:
            return 1
        env = {**self.environ(), **dict(assigns)}
        return (yield from self.invoke(argv, io2, env, tail))

    def invoke(self, argv: list[str], io: IO, env: dict[str, str] | None = None, tail: bool = False) -> Gen:
        """Run a command by name: function, builtin, then the image's programs."""
        from sandbox.shell.builtins import BUILTINS

        name = argv[0]
        if name in self.functions:
            saved, self.positional = self.positional, argv[1:]
            try:
                return (yield from self.run(self.functions[name], io))
            except FunctionReturn as ret:
                return ret.code
            finally:
                self.positional = saved
        env = self.environ() if env is None else env
        builtin = BUILTINS.get(name)
        if builtin is not None and (name not in ("__dbl_test",) or self.flavour != "dash"):
            return (yield from builtin(Call(self, argv, io, env, tail)))
        program = self.container.commands.get(posixpath.basename(name))
        if program is not None and (
            "/" not in name or self.container.fs.exists(name) or name.startswith(("/bin/", "/usr/"))
        ):
            return (yield from program(Call(self, argv, io, env, tail)))
        if "/" in name and self.container.fs.is_file(self.container.fs.resolve(name, self.cwd)):
            script = self.container.fs.read(self.container.fs.resolve(name, self.cwd))
            sub = Shell(self.container, name, self.flavour, dict(env), set(env), argv[1:], arith=self.arith)
            try:
                return (yield from sub.run_text(script, io, tail))
            except ExitProcess as ex:
                return ex.code
        shown = "[[" if name == "__dbl_test" else name
        io.error(self.not_found(shown) if "/" not in name else f"{self.prefix()}{name}: not found")
        return 127

    def redirect(self, redirects: list[ast.Redirect], io: IO) -> Generator[Any, None, IO | None]:
        """`io` with the redirections applied; None (after the shell's message) when one fails."""
        fs = self.container.fs
        stdin, out, err = io.stdin, io.out, io.err
        for r in redirects:
            if r.op in (">&", "<&") and r.target.isdigit():
                source = {1: out, 2: err}.get(int(r.target), out)
                if (r.fd if r.fd is not None else 1) == 2:
                    err = source
                else:
                    out = source
                continue
            if r.heredoc is not None:
                stdin = (yield from expand_heredoc(self, r.heredoc)) if r.expand_heredoc else r.heredoc
                continue
            target = yield from expand_text(self, r.target)
            if r.op == "<<<":
                stdin = target + "\n"
                continue
            path = fs.resolve(target, self.cwd)
            try:
                if r.op == "<":
                    stdin = fs.read(path)
                    continue
                w: Writer = Null() if path == "/dev/null" else FileWriter(fs, path, append=r.op == ">>")
            except FsError as e:
                io.error(self._redirect_error(target, e.strerror, r.op == "<"))
                return None
            if r.op in ("&>", ">&"):
                out = err = w
            elif r.fd == 2:
                err = w
            else:
                out = w
        return IO(stdin, out, err)

    def _redirect_error(self, target: str, strerror: str, reading: bool) -> str:
        if self.flavour == "bash":
            return f"{self.prefix()}{target}: {strerror}"
        if self.flavour == "dash":
            return f"{self.prefix()}cannot {'open' if reading else 'create'} {target}: {strerror}"
        return f"{self.prefix()}can't {'open' if reading else 'create'} {target}: {strerror}"


def _guard(gen: Gen) -> Gen:
    """A background job: `exit` in it ends the job, not the container."""
    try:
        return (yield from gen)
    except ExitProcess as ex:
        return ex.code


def wait_jobs(jobs: list[Any]) -> Wait:
    """The effect `wait` yields."""
    return Wait(tuple(jobs))
