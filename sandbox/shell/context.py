"""What a command implementation works with: its invocation (`Call`) and its container.

`Call` carries the shell that runs the command, argv, standard streams and environment;
`Container` is what every program in one container shares: the process, the file system, the
network, the installed programs and the identity it runs with.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.shell.process import Process
from sandbox.shell.streams import IO

if TYPE_CHECKING:
    from sandbox.shell.interp import Shell

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

    @property
    def words(self) -> list[str]:
        """The arguments that are not options (do not start with `-`), in order."""
        return [a for a in self.argv[1:] if not a.startswith("-")]

    def path(self, p: str) -> str:
        """`p` made absolute against the working directory."""
        return self.sh.container.fs.resolve(p, self.sh.cwd)


Command = Callable[[Call], Gen]


def exits(status: int) -> Command:
    """A command that does nothing and exits with `status` (true, false, and what the sandbox need not
    model: chmod, trap, kill …)."""

    def run(call: Call) -> Gen:
        return status
        yield

    return run


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
