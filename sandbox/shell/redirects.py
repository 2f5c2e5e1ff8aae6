"""Redirections: `> file`, `>> file`, `< file`, `2>&1`, `&> file`, here-documents and here-strings."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from sandbox.shell import syntax as ast
from sandbox.shell.fs import FsError
from sandbox.shell.streams import IO, FileWriter, Null, Writer
from sandbox.shell.words import expand_heredoc, expand_text

if TYPE_CHECKING:
    from sandbox.shell.interp import Shell


def apply_redirects(sh: Shell, redirects: list[ast.Redirect], io: IO) -> Generator[Any, None, IO | None]:
    """`io` with the redirections applied; None (after the shell's message) when one fails."""
    fs = sh.container.fs
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
            stdin = (yield from expand_heredoc(sh, r.heredoc)) if r.expand_heredoc else r.heredoc
            continue
        target = yield from expand_text(sh, r.target)
        if r.op == "<<<":
            stdin = target + "\n"
            continue
        path = fs.resolve(target, sh.cwd)
        try:
            if r.op == "<":
                stdin = fs.read(path)
                continue
            w: Writer = Null() if path == "/dev/null" else FileWriter(fs, path, append=r.op == ">>")
        except FsError as e:
            io.error(_redirect_error(sh, target, e.strerror, r.op == "<"))
            return None
        if r.op in ("&>", ">&"):
            out = err = w
        elif r.fd == 2:
            err = w
        else:
            out = w
    return IO(stdin, out, err)


def _redirect_error(sh: Shell, target: str, strerror: str, reading: bool) -> str:
    if sh.flavour == "bash":
        return f"{sh.prefix()}{target}: {strerror}"
    if sh.flavour == "dash":
        return f"{sh.prefix()}cannot {'open' if reading else 'create'} {target}: {strerror}"
    return f"{sh.prefix()}can't {'open' if reading else 'create'} {target}: {strerror}"
