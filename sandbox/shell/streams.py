"""Standard input and output of a command: text, an endless stream of zero bytes, sinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sandbox.shell.fs import FileSystem, FsError
from sandbox.shell.process import Process


@dataclass(frozen=True)
class Zeros:
    """`count` zero bytes without a newline (`/dev/zero`: infinitely many)."""

    count: float = float("inf")


Data = str | Zeros


class Writer(Protocol):
    """Where a command's output goes."""

    def write(self, text: str) -> None:
        """Append `text`."""

    def write_zeros(self, zeros: Zeros) -> None:
        """Append a run of zero bytes."""


@dataclass
class LogWriter:
    """The container's stdout/stderr: the log."""

    proc: Process
    stream: str = "stdout"

    def write(self, text: str) -> None:
        """Log it at the current simulated time."""
        self.proc.write(text, self.stream)

    def write_zeros(self, zeros: Zeros) -> None:
        """Zero bytes are not lines: nothing readable reaches the log."""


@dataclass
class Capture:
    """Output captured for a pipe or a command substitution."""

    parts: list[str] = field(default_factory=list)
    zeros: Zeros | None = None

    def write(self, text: str) -> None:
        """Keep it."""
        self.parts.append(text)

    def write_zeros(self, zeros: Zeros) -> None:
        """Keep the run of zeros (a pipe from /dev/zero)."""
        self.zeros = Zeros((self.zeros.count if self.zeros else 0) + zeros.count)

    def data(self) -> Data:
        """What the next command of a pipeline reads."""
        return self.zeros if self.zeros is not None and not self.parts else "".join(self.parts)

    def text(self) -> str:
        """The captured text."""
        return "".join(self.parts)


class Null:
    """`/dev/null`."""

    def write(self, text: str) -> None:
        """Discard."""

    def write_zeros(self, zeros: Zeros) -> None:
        """Discard."""


@dataclass
class FileWriter:
    """`> file` / `>> file`."""

    fs: FileSystem
    path: str
    append: bool = False

    def __post_init__(self) -> None:
        if not self.append:
            self.fs.write(self.path, "")
        self.append = True

    def write(self, text: str) -> None:
        """Append to the file (a read-only mount raises FsError)."""
        self.fs.write(self.path, text, append=True)

    def write_zeros(self, zeros: Zeros) -> None:
        """Zero bytes into a file: counted, not stored."""
        if zeros.count != float("inf"):
            self.fs.write(self.path, "\0" * min(int(zeros.count), 1 << 16), append=True)


@dataclass
class IO:
    """A command's standard streams."""

    stdin: Data
    out: Writer
    err: Writer

    def print(self, text: str = "") -> None:
        """A line to stdout."""
        self.out.write(text + "\n")

    def error(self, text: str) -> None:
        """A line to stderr."""
        self.err.write(text + "\n")


__all__ = ["IO", "Capture", "Data", "FileWriter", "FsError", "LogWriter", "Null", "Writer", "Zeros"]
