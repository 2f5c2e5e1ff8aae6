"""Running commands in a simulated container for the interpreter tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.shell.fs import FileSystem
from sandbox.shell.interp import Container, Shell
from sandbox.shell.net import StaticNetwork
from sandbox.shell.process import Process
from sandbox.shell.streams import IO, LogWriter
from sandbox.shell.toolsets import programs_for

MI = 1 << 20


@dataclass
class Ran:
    """What a command did: its exit (time, code, reason) or None while running, and its log."""

    exit: tuple[float, int, str] | None
    lines: list[str]
    proc: Process
    container: Container = field(repr=False)

    @property
    def code(self) -> int | None:
        return self.exit[1] if self.exit else None

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def container(
    base: str = "busybox",
    files: dict[str, str] | None = None,
    limit: float = 0.0,
    net: StaticNetwork | None = None,
    extra: frozenset[str] = frozenset(),
    readonly: dict[str, dict[str, str]] | None = None,
) -> Container:
    proc = Process(started=1000.0, memory_limit=limit)
    flavour, commands, gnu = programs_for(base, extra)
    fs = FileSystem(files or {})
    for path, content in (readonly or {}).items():
        fs.mount(path, content)
    return Container(proc, fs, net or StaticNetwork(), commands, flavour, gnu, "pod-1")


def run(
    argv: list[str] | str,
    base: str = "busybox",
    env: dict[str, str] | None = None,
    until: float = 100.0,
    c: Container | None = None,
    **kw: object,
) -> Ran:
    """Run argv (a string: `sh -c` it) for `until` simulated seconds."""
    c = c or container(base, **kw)  # type: ignore[arg-type]
    if isinstance(argv, str):
        argv = ["sh", "-c", argv]
    env = dict(env or {})
    sh = Shell(c, "sh", c.flavour, dict(env), set(env))
    io = IO("", LogWriter(c.proc), LogWriter(c.proc, "stderr"))
    c.proc.spawn(sh.invoke(argv, io, env, tail=True))
    c.proc.advance(c.proc.started + until)
    return Ran(c.proc.exit, [line for _, line in c.proc.take_output()], c.proc, c)
