"""Shell scripts parsed with bashlex into a small tree the interpreter walks.

bashlex gives the structure (lists, pipelines, compound commands, redirections, assignments);
words are kept as their raw source text (quotes included) and expanded at run time by
`sandbox.shell.words`. Three things bashlex does not parse are rewritten first, outside quotes:
`$(( ))` becomes a reference to a numbered arithmetic expression, `[[ ]]` a call of the `[[`
test builtin, and `case … esac` an if/elif chain over the `__case` builtin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sandbox.shell.rewrite import QUOTED_HEREDOC, rewrite_source, unquote_heredocs

if TYPE_CHECKING:
    import bashlex.ast


class ShellSyntaxError(Exception):
    """The script does not parse (`unsupported` when it is valid shell this subset lacks)."""

    def __init__(self, message: str, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


@dataclass
class Redirect:
    """`>`, `>>`, `<`, `2>&1`, `<<EOF` …"""

    op: str
    fd: int | None
    target: str  # raw word, or the fd number for `>&`
    heredoc: str | None = None
    expand_heredoc: bool = True


@dataclass
class Simple:
    """A simple command: assignments, words, redirections."""

    assigns: list[str]
    words: list[str]
    redirects: list[Redirect]
    line: int = 1


@dataclass
class Pipeline:
    """`a | b | c` (optionally negated with `!`)."""

    commands: list[Node]
    negate: bool = False


@dataclass
class AndOr:
    """`a && b || c`."""

    first: Node
    rest: list[tuple[str, Node]]


@dataclass
class Sequence:
    """Commands run one after another; `background` items run with `&`."""

    items: list[tuple[Node, bool]]


@dataclass
class If:
    """`if c; then …; elif …; else …; fi`."""

    branches: list[tuple[Node, Node]]
    otherwise: Node | None = None


@dataclass
class Loop:
    """`while c; do …; done` (`until` negates the condition)."""

    condition: Node
    body: Node
    until: bool = False


@dataclass
class For:
    """`for v in words; do …; done` (no words: the positional parameters)."""

    var: str
    words: list[str] | None
    body: Node


@dataclass
class Group:
    """`{ …; }` or a subshell `( … )`, with redirections."""

    body: Node
    subshell: bool
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Function:
    """`name() { … }`."""

    name: str
    body: Node


Node = Simple | Pipeline | AndOr | Sequence | If | Loop | For | Group | Function


@dataclass
class Script:
    """A parsed script and its arithmetic expressions (`$__arith_N` refers to `arith[N]`)."""

    body: Node
    arith: list[str]


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text

    def raw(self, node: bashlex.ast.node) -> str:
        return self.text[node.pos[0] : node.pos[1]]

    def line(self, node: bashlex.ast.node) -> int:
        return self.text.count("\n", 0, node.pos[0]) + 1

    def node(self, n: bashlex.ast.node) -> Node:
        kind = n.kind
        if kind == "list":
            return self.list_(n.parts)
        if kind == "command":
            return self.command(n)
        if kind == "pipeline":
            parts = [p for p in n.parts if p.kind not in ("pipe", "reservedword")]
            negate = any(p.kind == "reservedword" and p.word == "!" for p in n.parts)
            return Pipeline([self.node(p) for p in parts], negate)
        if kind == "compound":
            return self.compound(n)
        if kind == "function":
            name = n.parts[0].word
            return Function(name, self.node(n.parts[-1]))
        if kind in ("if", "while", "until", "for"):
            return self.keyword(n)
        raise ShellSyntaxError(f"unsupported construct: {kind}", unsupported=True)

    def list_(self, parts: list) -> Node:
        items: list[tuple[Node, bool]] = []
        chain: list = []
        for p in [*parts, None]:
            if p is not None and not (p.kind == "operator" and p.op in (";", "&", "\n")):
                chain.append(p)
                continue
            if chain:
                items.append((self.andor(chain), p is not None and p.op == "&"))
            chain = []
        if len(items) == 1 and not items[0][1]:
            return items[0][0]
        return Sequence(items)

    def andor(self, chain: list) -> Node:
        first = self.node(chain[0])
        rest = [(chain[i].op, self.node(chain[i + 1])) for i in range(1, len(chain) - 1, 2)]
        return AndOr(first, rest) if rest else first

    def command(self, n: bashlex.ast.node) -> Simple:
        assigns: list[str] = []
        words: list[str] = []
        redirects: list[Redirect] = []
        for p in n.parts:
            if p.kind == "assignment" and not words:
                assigns.append(self.raw(p))
            elif p.kind in ("word", "assignment"):
                words.append(self.raw(p))
            elif p.kind == "redirect":
                redirects.append(self.redirect(p))
        return Simple(assigns, words, redirects, self.line(n))

    def redirect(self, p: bashlex.ast.node) -> Redirect:
        fd = p.input if isinstance(getattr(p, "input", None), int) else None
        if isinstance(p.output, int):
            return Redirect(p.type, fd, str(p.output))
        target = self.raw(p.output)
        heredoc = getattr(p, "heredoc", None)
        if heredoc is not None:
            body = heredoc.value.rsplit("\n", 1)[0] + "\n" if "\n" in heredoc.value else ""
            if p.type == "<<-":
                body = re.sub(r"(?m)^\t+", "", body)
            quoted = any(q in target for q in "'\"\\") or target.endswith(QUOTED_HEREDOC)
            return Redirect(p.type, fd, target, body, expand_heredoc=not quoted)
        return Redirect(p.type, fd, target)

    def compound(self, n: bashlex.ast.node) -> Node:
        inner = [p for p in n.list if p.kind != "reservedword"]
        opener = n.list[0].word if n.list and n.list[0].kind == "reservedword" else ""
        redirects = [self.redirect(r) for r in getattr(n, "redirects", []) or []]
        if opener in ("{", "("):
            body = self.list_(inner) if len(inner) != 1 else self.node(inner[0])
            return Group(body, opener == "(", redirects)
        body = self.node(inner[0]) if len(inner) == 1 else self.list_(inner)
        return Group(body, False, redirects) if redirects else body

    def keyword(self, n: bashlex.ast.node) -> Node:
        parts = _flatten(n.parts)
        if n.kind == "if":
            branches, otherwise, i = [], None, 0
            while i < len(parts):
                word = parts[i].word if parts[i].kind == "reservedword" else ""
                if word in ("if", "elif"):
                    branches.append((self.node(parts[i + 1]), self.node(parts[i + 3])))
                    i += 4
                elif word == "else":
                    otherwise = self.node(parts[i + 1])
                    i += 2
                else:
                    i += 1
            return If(branches, otherwise)
        if n.kind in ("while", "until"):
            return Loop(self.node(parts[1]), self.node(parts[3]), until=n.kind == "until")
        var = parts[1].word
        words: list[str] | None = None
        rest = parts[2:]
        if rest and rest[0].kind == "reservedword" and rest[0].word == "in":
            words = []
            for p in rest[1:]:
                if p.kind == "reservedword":
                    break
                words.append(self.raw(p))
        return For(var, words, self.node(parts[-2]))


def _flatten(parts: list) -> list:
    """bashlex nests a third and later `elif` as a reserved word whose `word` is a list of nodes."""
    out = []
    for p in parts:
        if p.kind == "reservedword" and isinstance(p.word, list):
            out.extend(_flatten(p.word))
        else:
            out.append(p)
    return out


def parse(script: str, arith: list[str] | None = None) -> Script:
    """Parse a script; ShellSyntaxError when it does not parse.

    `arith` is the arithmetic table to extend (a shell keeps one for every script it parses).
    """
    text, arith = rewrite_source(unquote_heredocs(script), [] if arith is None else arith)
    if not text.strip():
        return Script(Sequence([]), arith)
    # Imported at the first script, not with the module: bashlex builds its parser tables on import
    # (0.25 s of CPU; its bundled PLY cannot load prebuilt ones), which a sandbox whose containers
    # run no shell script never needs.
    import bashlex
    import bashlex.errors

    try:
        trees = bashlex.parse(text)
    except NotImplementedError as err:
        raise ShellSyntaxError(f"unsupported shell construct: {err}", unsupported=True) from None
    except (bashlex.errors.ParsingError, Exception) as err:  # bashlex raises a few kinds
        raise ShellSyntaxError(str(err)) from None
    b = _Builder(text)
    nodes = [b.node(t) for t in trees]
    body = nodes[0] if len(nodes) == 1 else Sequence([(n, False) for n in nodes])
    return Script(body, arith)
