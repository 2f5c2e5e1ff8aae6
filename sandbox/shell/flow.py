"""Compound commands and pipelines: how control flows through a script."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sandbox.shell import syntax as ast
from sandbox.shell.context import Gen, LoopControl
from sandbox.shell.process import STEP_COST, ExitProcess, Sleep
from sandbox.shell.redirects import apply_redirects
from sandbox.shell.streams import IO, Capture
from sandbox.shell.words import expand_words

if TYPE_CHECKING:
    from sandbox.shell.interp import Shell


def run_pipeline(sh: Shell, node: ast.Pipeline, io: IO, cond: bool) -> Gen:
    """`a | b | c`: each stage's output is the next one's input; the status per pipefail/`!`."""
    data, statuses = io.stdin, []
    for k, cmd in enumerate(node.commands):
        last = k == len(node.commands) - 1
        out = io.out if last else Capture()
        runner = sh if len(node.commands) == 1 else sh.subshell()
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
    if "pipefail" in sh.options:
        status = next((s for s in reversed(statuses) if s), 0)
    return int(not status) if node.negate else status


def run_compound(sh: Shell, node: ast.Node, io: IO, cond: bool, tail: bool) -> Gen:
    """if / while / until / for / groups and subshells / function definitions."""
    if isinstance(node, ast.If):
        for test, body in node.branches:
            if (yield from sh.run(test, io, True)) == 0:
                return (yield from sh.run(body, io, cond, tail))
        return (yield from sh.run(node.otherwise, io, cond, tail)) if node.otherwise else 0
    if isinstance(node, ast.Loop | ast.For):
        return (yield from _loop(sh, node, io, cond))
    if isinstance(node, ast.Group):
        io2 = yield from apply_redirects(sh, node.redirects, io)
        if io2 is None:
            return 1
        if not node.subshell:
            return (yield from sh.run(node.body, io2, cond, tail))
        try:
            return (yield from sh.subshell().run(node.body, io2, cond, tail))
        except ExitProcess as ex:
            return ex.code
    if isinstance(node, ast.Function):
        sh.functions[node.name] = node.body
        return 0
    raise AssertionError(node)


def _loop(sh: Shell, node: ast.Loop | ast.For, io: IO, cond: bool) -> Gen:
    status = 0
    if isinstance(node, ast.For):
        items = sh.positional if node.words is None else (yield from expand_words(sh, node.words))
        iterator: Any = iter(items)
    while True:
        if isinstance(node, ast.For):
            item = next(iterator, None)
            if item is None:
                return status
            sh.set_var(node.var, item)
        else:
            test = yield from sh.run(node.condition, io, True)
            if (test == 0) == node.until:
                return status
        try:
            status = yield from sh.run(node.body, io, cond)
        except LoopControl as ctl:
            if ctl.levels > 1:
                raise LoopControl(ctl.kind, ctl.levels - 1) from None
            if ctl.kind == "break":
                return 0
        yield Sleep(STEP_COST)
