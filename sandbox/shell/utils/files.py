"""File utilities: cat, ls, head, tail, mkdir, touch, rm, cp, mv, tee — busybox or GNU wording."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sandbox.shell.context import exits
from sandbox.shell.fs import FsError
from sandbox.shell.interp import Call, Command, Gen
from sandbox.shell.process import INF, Sleep
from sandbox.shell.streams import Data, Zeros

TAIL_GROWTH = 1 << 30  # bytes/s: how fast `tail` buffers a stream without newlines


def _flags(argv: list[str]) -> tuple[set[str], list[str], dict[str, str]]:
    """(single-letter flags, operands, options with a value such as -n 5 / -c 10M)."""
    flags, operands, values = set(), [], {}
    args = list(argv[1:])
    while args:
        a = args.pop(0)
        if a == "--":
            operands.extend(args)
            break
        if a.startswith("-") and len(a) > 1 and not a[1:].isdigit():
            if a[1] in "nc" and len(a) == 2 and args:
                values[a[1]] = args.pop(0)
            elif (a[1] in "nc" and len(a) > 2 and a[2:3].isdigit()) or (a[1] in "nc" and a[2:3] in "+-"):
                values[a[1]] = a[2:]
            elif a.startswith("--"):
                flags.add(a)
            else:
                flags.update(a[1:])
        elif a.startswith("-") and a[1:].isdigit():
            values["n"] = a[1:]
        else:
            operands.append(a)
    return flags, operands, values


def _size(text: str) -> float:
    mult = {"k": 1024, "K": 1024, "m": 1 << 20, "M": 1 << 20, "g": 1 << 30, "G": 1 << 30, "b": 512}
    if text and text[-1] in mult:
        return float(text[:-1] or 1) * mult[text[-1]]
    if text.endswith(("KB", "MB", "GB")):
        return float(text[:-2]) * {"K": 1000, "M": 10**6, "G": 10**9}[text[-2]]
    return float(text)


def cant_open(call: Call, operand: str, strerror: str) -> None:
    """`cat: can't open 'x': No such file or directory` (busybox) / `cat: x: …` (GNU)."""
    if call.sh.container.gnu:
        call.io.error(f"{call.name}: {operand}: {strerror}")
    else:
        call.io.error(f"{call.name}: can't open '{operand}': {strerror}")


def read_input(call: Call, operand: str | None) -> Data | None:
    """An operand's content (`-` or none: stdin); None after printing the error."""
    if operand in (None, "-"):
        return call.io.stdin
    path = call.path(operand)
    if path == "/dev/zero":
        return Zeros()
    if path in ("/dev/urandom", "/dev/random"):
        return Zeros()
    try:
        return call.sh.container.fs.read(path)
    except FsError as err:
        cant_open(call, operand, err.strerror)
        return None


class Inputs:
    """The operands' contents in turn (no operand: stdin), as `read_input` reads them, and the exit
    status that follows: `failed` once an operand could not be read (its error printed), else 0."""

    def __init__(self, call: Call, operands: Sequence[str], failed: int = 1) -> None:
        self._call = call
        self._operands: list[str | None] = list(operands) or [None]
        self._failed = failed
        self.status = 0

    def __iter__(self) -> Iterator[Data]:
        for operand in self._operands:
            data = read_input(self._call, operand)
            if data is None:
                self.status = self._failed
            else:
                yield data


def _cat(call: Call) -> Gen:
    _, operands, _ = _flags(call.argv)
    inputs = Inputs(call, operands)
    for data in inputs:
        if isinstance(data, Zeros):
            call.io.out.write_zeros(data)
            if data.count == INF and not hasattr(call.io.out, "parts"):
                yield Sleep(INF)  # streaming zeros to the log forever
        else:
            call.io.out.write(data)
    return inputs.status


def _lines_of(data: str) -> list[str]:
    return data.splitlines(keepends=True)


def _head(call: Call) -> Gen:
    _, operands, values = _flags(call.argv)
    inputs = Inputs(call, operands)
    for data in inputs:
        if "c" in values:
            n = _size(values["c"])
            if isinstance(data, Zeros):
                call.io.out.write_zeros(Zeros(min(n, data.count)))
            else:
                call.io.out.write(data.encode()[: int(n)].decode(errors="ignore"))
            continue
        if isinstance(data, Zeros):
            call.io.out.write_zeros(data)  # no newline ever comes: head would read forever
            yield Sleep(INF)
            continue
        n = int(values.get("n", "10").lstrip("+"))
        call.io.out.write("".join(_lines_of(data)[:n]))
    return inputs.status


def _tail(call: Call) -> Gen:
    flags, operands, values = _flags(call.argv)
    follow = "f" in flags or "F" in flags or "--follow" in flags
    n = values.get("n", "10")
    op = operands[0] if operands else None
    data = read_input(call, op)
    if data is None:
        if follow and op is not None:
            yield Sleep(INF)  # tail -F keeps retrying; tail -f exits: both rare in pods
        return 1
    proc = call.sh.container.proc
    if isinstance(data, Zeros):  # no newline: tail keeps everything it reads in memory
        if data.count == INF:
            while True:
                yield Sleep(60.0, grow=TAIL_GROWTH)
        yield Sleep(data.count / TAIL_GROWTH, grow=TAIL_GROWTH)
        proc.allocate(-data.count)
        return 0
    lines = _lines_of(data)
    shown = lines[int(n[1:]) - 1 :] if n.startswith("+") else lines[-int(n or 0) :] if int(n or 0) else []
    call.io.out.write("".join(shown))
    if not follow:
        return 0
    if op is None or call.path(op) in ("/dev/null",):
        yield Sleep(INF)
        return 0
    path, seen = call.path(op), len(data)
    while True:
        yield Sleep(1.0)
        try:
            text = call.sh.container.fs.read(path)
        except FsError:
            continue
        if len(text) > seen:
            call.io.out.write(text[seen:])
        seen = len(text)


def _ls(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    fs, gnu = call.sh.container.fs, call.sh.container.gnu
    status = 0
    long = "l" in flags
    everything = "a" in flags or "A" in flags
    for op in operands or ["."]:
        path = call.path(op)
        if fs.is_dir(path):
            names = fs.listdir(path)
            if not everything:
                names = [n for n in names if not n.startswith(".")]
            if len(operands) > 1:
                call.io.print(f"{op}:")
            for name in names:
                full = path.rstrip("/") + "/" + name
                call.io.print(_long(fs, full, name) if long else name)
        elif fs.is_file(path):
            call.io.print(_long(fs, path, op) if long else op)
        else:
            call.io.error(
                f"ls: cannot access '{op}': No such file or directory"
                if gnu
                else f"ls: {op}: No such file or directory"
            )
            status = 2 if gnu else 1
    return status
    yield


def _long(fs, path: str, name: str) -> str:
    if fs.is_dir(path):
        return f"drwxr-xr-x    2 root     root          4096 Jan  1 00:00 {name}"
    size = fs.size(path) if path in fs.paths() else 0
    return f"-rw-r--r--    1 root     root    {size:>10} Jan  1 00:00 {name}"


def _fs_op(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    fs, gnu, name = call.sh.container.fs, call.sh.container.gnu, call.name
    verb = {"mkdir": "create directory", "rm": "remove", "touch": "touch", "rmdir": "remove directory"}.get(
        name, name
    )
    status = 0
    targets = operands[:-1] if name in ("cp", "mv") else operands
    if not operands:
        call.io.error(f"{name}: missing operand")
        return 1
    for op in targets:
        path = call.path(op)
        try:
            if name == "mkdir":
                if fs.exists(path) and "p" not in flags:
                    raise FsError(path, "File exists")
                fs.mkdir(path, parents="p" in flags)
            elif name == "touch":
                if not fs.is_file(path):
                    fs.write(path, "")
            elif name in ("rm", "rmdir"):
                if fs.exists(path) or "f" not in flags:
                    fs.remove(path, recursive="r" in flags or "R" in flags)
            else:
                dest = call.path(operands[-1])
                if fs.is_dir(dest):
                    dest = dest.rstrip("/") + "/" + path.rsplit("/", 1)[-1]
                fs.write(dest, fs.read(path))
                if name == "mv":
                    fs.remove(path)
        except FsError as err:
            status = 1
            if gnu:
                call.io.error(f"{name}: cannot {verb} '{op}': {err.strerror}")
            else:
                call.io.error(f"{name}: can't {verb} '{op}': {err.strerror}")
    return status
    yield


def _tee(call: Call) -> Gen:
    flags, operands, _ = _flags(call.argv)
    data = call.io.stdin if isinstance(call.io.stdin, str) else ""
    for op in operands:
        try:
            call.sh.container.fs.write(call.path(op), data, append="a" in flags)
        except FsError as err:
            call.io.error(f"tee: {op}: {err.strerror}")
    call.io.out.write(data)
    return 0
    yield


_noop = exits(0)


COMMANDS: dict[str, Command] = {
    "cat": _cat,
    "head": _head,
    "tail": _tail,
    "ls": _ls,
    "mkdir": _fs_op,
    "touch": _fs_op,
    "rm": _fs_op,
    "rmdir": _fs_op,
    "cp": _fs_op,
    "mv": _fs_op,
    "tee": _tee,
    "chmod": _noop,
    "chown": _noop,
    "ln": _noop,
    "sync": _noop,
}
