"""`test` / `[` / `[[`: file, string and integer tests, `!`, `-a`, `-o` and parentheses."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable

from sandbox.shell.fs import FileSystem


class TestError(Exception):
    """A malformed expression (`[: too many arguments`, `integer expression expected`)."""


_UNARY_FILE: dict[str, Callable[[FileSystem, str], bool]] = {
    "-e": lambda fs, p: fs.exists(p),
    "-f": lambda fs, p: fs.is_file(p) and p not in ("/dev/null", "/dev/zero"),
    "-d": lambda fs, p: fs.is_dir(p),
    "-r": lambda fs, p: fs.exists(p),
    "-w": lambda fs, p: fs.exists(p),
    "-x": lambda fs, p: fs.is_dir(p) or (fs.is_file(p) and p.startswith(("/bin/", "/usr/", "/sbin/"))),
    "-s": lambda fs, p: fs.is_file(p) and p in fs.paths() and fs.size(p) > 0,
    "-L": lambda fs, p: False,
    "-h": lambda fs, p: False,
    "-c": lambda fs, p: p in ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"),
    "-p": lambda fs, p: False,
    "-S": lambda fs, p: False,
}
_INT_OPS = {
    "-eq": lambda a, b: a == b,
    "-ne": lambda a, b: a != b,
    "-lt": lambda a, b: a < b,
    "-le": lambda a, b: a <= b,
    "-gt": lambda a, b: a > b,
    "-ge": lambda a, b: a >= b,
}


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise TestError(
            f"{text}: integer expression expected" if text else "integer expression expected"
        ) from None


class _Parser:
    def __init__(self, args: list[str], fs: FileSystem, cwd: str, extended: bool) -> None:
        self.args, self.i, self.fs, self.cwd, self.extended = args, 0, fs, cwd, extended

    def peek(self, k: int = 0) -> str | None:
        j = self.i + k
        return self.args[j] if j < len(self.args) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise TestError("argument expected")
        self.i += 1
        return tok

    def _chain(
        self, ops: tuple[str, str], operand: Callable[[], bool], combine: Callable[[bool, bool], bool]
    ) -> bool:
        """`operand (op operand)*`, left to right; every operand is parsed (and so evaluated)."""
        value = operand()
        while self.peek() in ops:
            self.i += 1
            value = combine(value, operand())
        return value

    def expr(self) -> bool:
        return self._chain(("-o", "||"), self.and_, lambda a, b: a or b)

    def and_(self) -> bool:
        return self._chain(("-a", "&&"), self.not_, lambda a, b: a and b)

    def not_(self) -> bool:
        if self.peek() == "!" and self.peek(1) is not None:
            self.i += 1
            return not self.not_()
        return self.primary()

    def primary(self) -> bool:
        tok = self.take()
        if (tok == "(" and self.peek(1) != ")") or (tok == "(" and self.peek() not in (None, ")")):
            value = self.expr()
            if self.take() != ")":
                raise TestError("')' expected")
            return value
        op = self.peek()
        if op in ("=", "==", "!=", "<", ">", "=~") or op in _INT_OPS:
            self.i += 1
            rhs = self.take()
            if op in _INT_OPS:
                return _INT_OPS[op](_int(tok), _int(rhs))
            if op in ("=", "=="):
                return fnmatch.fnmatchcase(tok, rhs) if self.extended else tok == rhs
            if op == "!=":
                return not fnmatch.fnmatchcase(tok, rhs) if self.extended else tok != rhs
            if op == "=~":
                return re.search(rhs, tok) is not None
            return tok < rhs if op == "<" else tok > rhs
        if tok in ("-z", "-n") and self.peek() is not None:
            operand = self.take()
            return (operand == "") == (tok == "-z")
        if tok in _UNARY_FILE and self.peek() is not None:
            path = self.fs.resolve(self.take(), self.cwd)
            return _UNARY_FILE[tok](self.fs, path)
        if tok == "-t" and self.peek() is not None:
            self.take()
            return False
        return tok != ""


def evaluate(args: list[str], fs: FileSystem, cwd: str = "/", extended: bool = False) -> bool:
    """The truth of a test expression; TestError when it is malformed."""
    if not args:
        return False
    p = _Parser(args, fs, cwd, extended)
    value = p.expr()
    if p.peek() is not None:
        raise TestError(f"{p.peek()}: unexpected operator" if not extended else "syntax error")
    return value
