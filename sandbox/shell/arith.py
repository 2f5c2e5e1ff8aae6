"""Shell arithmetic (`$(( ))`, `expr`-free counters): integers, C operators, variables by name."""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable

_BIN = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Pow: operator.pow,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_CMP = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


class ArithError(Exception):
    """What the shell prints after `sh: arithmetic syntax error` / `division by zero`."""


def _c_div(a: int, b: int, mod: bool) -> int:
    if b == 0:
        raise ArithError("division by zero")
    q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
    return a - q * b if mod else q


def evaluate(expr: str, lookup: Callable[[str], str]) -> int:
    """The value of `expr`; names and `$names` read variables (unset or empty: 0)."""
    text = re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", r"\1", expr.strip())
    text = text.replace("&&", " and ").replace("||", " or ")
    text = re.sub(r"!(?!=)", " not ", text)
    text = re.sub(r"\b0x([0-9a-fA-F]+)\b", lambda m: str(int(m.group(1), 16)), text)
    text = re.sub(r"\b0([0-7]+)\b", lambda m: str(int(m.group(1), 8)), text)
    if not text:
        return 0
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ArithError(f"arithmetic syntax error: {expr!r}") from None

    def value(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return int(node.value)
        if isinstance(node, ast.Name):
            raw = lookup(node.id).strip()
            if not raw:
                return 0
            try:
                return int(raw, 0) if raw.lower().startswith("0x") else int(raw)
            except ValueError:
                return evaluate(raw, lookup) if raw != node.id else 0
        if isinstance(node, ast.BinOp):
            a, b = value(node.left), value(node.right)
            if isinstance(node.op, ast.Div | ast.FloorDiv | ast.Mod):
                return _c_div(a, b, isinstance(node.op, ast.Mod))
            fn = _BIN.get(type(node.op))
            if fn is not None:
                return int(fn(a, b))
        if isinstance(node, ast.UnaryOp):
            v = value(node.operand)
            if isinstance(node.op, ast.USub):
                return -v
            if isinstance(node.op, ast.UAdd):
                return v
            if isinstance(node.op, ast.Not):
                return int(not v)
            if isinstance(node.op, ast.Invert):
                return ~v
        if isinstance(node, ast.BoolOp):
            vals = [value(v) for v in node.values]
            return int(all(vals) if isinstance(node.op, ast.And) else any(vals))
        if isinstance(node, ast.Compare):
            left = value(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                right = value(right_node)
                fn = _CMP.get(type(op))
                if fn is None or not fn(left, right):
                    return 0
                left = right
            return 1
        raise ArithError(f"arithmetic syntax error: {expr!r}")

    return value(tree)
