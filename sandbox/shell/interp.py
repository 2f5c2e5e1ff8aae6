"""The shell interpreter: walks a parsed script over simulated time.

One `Shell` is one shell process's state (variables, exported names, positional parameters,
functions, options, working directory). `run` executes a node as a generator of process
effects and returns its exit status; commands are looked up as functions, builtins, then the
programs the image has (`Container.commands`), else `sh: foo: not found` (127), worded like the
image's shell (busybox ash, dash, bash).
"""

from __future__ import annotations

import posixpath
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from sandbox.shell import syntax as ast
from sandbox.shell.context import Call, Command, Container, FunctionReturn, Gen, LoopControl
from sandbox.shell.flow import run_compound, run_pipeline
from sandbox.shell.process import STEP_COST, ExitProcess, Sleep
from sandbox.shell.redirects import apply_redirects
from sandbox.shell.streams import IO, Capture, LogWriter, Writer
from sandbox.shell.words import ExpansionError, expand_text, expand_words

__all__ = ["Call", "Command", "Container", "FunctionReturn", "Gen", "LoopControl", "Shell"]


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
        return self.container.fs.glob(pattern, self.cwd)

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
            status = yield from run_pipeline(self, node, io, cond)
        else:
            status = yield from run_compound(self, node, io, cond, tail)
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
            io2 = yield from apply_redirects(self, node.redirects, io)
            return 0 if io2 is not None else 1
        io2 = yield from apply_redirects(self, node.redirects, io)
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


def _guard(gen: Gen) -> Gen:
    """A background job: `exit` in it ends the job, not the container."""
    try:
        return (yield from gen)
    except ExitProcess as ex:
        return ex.code
