"""Parsing: bashlex structure plus the rewrites for $(( )), [[ ]] and case."""

import pytest

from sandbox.shell import syntax as ast
from sandbox.shell.rewrite import rewrite


def test_if_elif_else_and_a_third_elif_bashlex_nests():
    script = ast.parse("if a; then x; elif b; then y; elif c; then z; else w; fi")
    node = script.body
    assert isinstance(node, ast.If) and len(node.branches) == 3 and node.otherwise is not None


def test_lists_split_into_and_or_chains_and_background_items():
    node = ast.parse("a && b || c; d & e").body
    assert isinstance(node, ast.Sequence)
    (first, bg1), (_, bg2), (_, bg3) = node.items
    assert isinstance(first, ast.AndOr) and [op for op, _ in first.rest] == ["&&", "||"]
    assert (bg1, bg2, bg3) == (False, True, False)


def test_words_keep_their_quotes_for_expansion():
    node = ast.parse("""echo "a b" 'c $d' e\\ f""").body
    assert node.words == ["echo", '"a b"', "'c $d'", "e\\ f"]


def test_arithmetic_becomes_a_table_reference_outside_single_quotes():
    text, table = rewrite("echo $((1 + $N)) '$((x))' \"$((2*3))\"")
    assert text == "echo ${__arith_0} '$((x))' \"${__arith_1}\"" and table == ["1 + $N", "2*3"]


def test_double_brackets_and_case_are_rewritten_keeping_line_numbers():
    script = 'case "$1" in\n  a|b) echo ab ;;\n  *) echo other ;;\nesac\nfoo'
    text, _ = rewrite(script)
    assert "__case \"$1\" 'a' 'b'" in text and "__case \"$1\" '*'" in text
    body = ast.parse(script).body
    assert isinstance(body, ast.Sequence) and body.items[-1][0].line == 5
    assert rewrite("[[ -z $x ]] && y")[0] == "__dbl_test -z $x __dbl_test_end && y"


def test_heredocs_and_redirections():
    node = ast.parse("cat <<EOF > /tmp/out 2>&1\nhello $X\nEOF\n").body
    ops = [(r.op, r.fd, r.target) for r in node.redirects]
    assert node.redirects[0].heredoc == "hello $X\n" and ("2>&1" if False else (">&", 2, "1")) in ops


def test_syntax_errors_are_reported():
    with pytest.raises(ast.ShellSyntaxError) as err:
        ast.parse("if true; then echo")
    assert not err.value.unsupported
