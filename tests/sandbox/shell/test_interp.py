"""The interpreter: control flow, expansions, exit codes and messages of ash, dash and bash."""

import pytest

from tests.sandbox.shell.helpers import run


def test_a_guard_prints_its_message_and_exits_with_its_code():
    script = 'if [ -z "$DB_HOST" ]; then\n  echo "DB_HOST not set"\n  exit 1\nfi\necho ok'
    ran = run(script)
    assert (ran.code, ran.lines) == (1, ["DB_HOST not set"])
    ran = run(script, env={"DB_HOST": "db"})
    assert (ran.code, ran.lines) == (0, ["ok"])


@pytest.mark.parametrize(
    ("base", "argv", "line"),
    [
        ("busybox", ["sh", "-c", "foo"], "sh: foo: not found"),
        ("debian", ["sh", "-c", "true\nfoo"], "sh: 2: foo: not found"),
        ("debian", ["bash", "-c", "foo"], "bash: line 1: foo: command not found"),
        ("oraclelinux", ["sh", "-c", "foo"], "sh: line 1: foo: command not found"),
        ("alpine", ["/bin/sh", "-c", "foo"], "/bin/sh: foo: not found"),
    ],
)
def test_unknown_commands_exit_127_worded_like_the_images_shell(base, argv, line):
    ran = run(argv, base=base)
    assert (ran.code, ran.lines) == (127, [line])


def test_dash_has_no_double_brackets_bash_and_ash_do():
    script = 'if [[ "$M" == serv* ]]; then echo yes; else echo no; fi'
    assert run(script, base="debian", env={"M": "server"}).lines == ["sh: 1: [[: not found", "no"]
    assert run(["bash", "-c", script], base="debian", env={"M": "server"}).lines == ["yes"]
    assert run(script, env={"M": "server"}).lines == ["yes"]


def test_and_or_chains_and_set_e():
    assert run("false && echo a || echo b; true && echo c").lines == ["b", "c"]
    ran = run("set -e; echo one; false; echo never")
    assert (ran.code, ran.lines) == (1, ["one"])
    assert run("set -e; if false; then :; fi; false || echo ok").lines == ["ok"]


@pytest.mark.parametrize(
    ("script", "out"),
    [
        ('echo "${X:-dflt}" "${Y:-dflt}"', "1 dflt"),
        ('echo "${Y:=set}" "$Y"', "set set"),
        ('echo "${X:+alt}" "${Y:+alt}."', "alt ."),
        (
            'F=archive.tar.gz; echo "${F%.*} ${F%%.*} ${F#*.} ${F##*.} ${#F}"',
            "archive.tar archive tar.gz gz 14",
        ),
        ("echo $((3 * (X + 4) / 2)) $((7 % 3)) $((-7 / 2))", "7 1 -3"),
        ('A="a  b"; for w in $A; do echo "[$w]"; done', "[a]\n[b]"),
        ('A="a  b"; for w in "$A"; do echo "[$w]"; done', "[a  b]"),
        ('set -- x \'y z\'; for a in "$@"; do echo "<$a>"; done; echo $#', "<x>\n<y z>\n2"),
        ('N=$(echo hi | tr a-z A-Z); echo "$N"', "HI"),
        ("echo `echo back`ticks", "backticks"),
        ('f() { echo "f:$1"; return 3; }; f arg; echo $?', "f:arg\n3"),
        ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3"),
        ("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", "1\n2"),
        ("( exit 4 ); echo sub=$?", "sub=4"),
        ('echo a b | { read x y; echo "$y$x"; }', "ba"),
        ("printf '%s=%05.1f|%x|%-3s|\\n' pi 3.14159 255 ab", "pi=003.1|ff|ab |"),
        ("case web-1 in db-*) echo db;; web-*|api-*) echo web;; esac", "web"),
        ('[ 5 -gt 3 -a "x" != "y" ] && echo yes', "yes"),
        ("echo ~", "/root"),
    ],
)
def test_expansions_and_control_flow(script, out):
    ran = run(script, env={"X": "1", "HOME": "/root"})
    assert ran.text == out, ran.lines


def test_parameter_errors_exit_the_shell():
    ran = run('echo "${DB_URL:?must be set}"; echo never')
    assert (ran.code, ran.lines) == (2, ["sh: DB_URL: must be set"])
    ran = run("set -u; echo $NOPE")
    assert ran.code == 2 and ran.lines == ["sh: NOPE: parameter not set"]


def test_redirections_files_heredocs_and_read_only_mounts():
    ran = run("echo hi > /tmp/f; echo again >> /tmp/f; cat /tmp/f; ls /nope 2>/dev/null || echo gone")
    assert ran.lines == ["hi", "again", "gone"]
    ran = run("cat <<EOF\nhost=$H\nEOF\ncat <<'EOF'\nraw=$H\nEOF", env={"H": "db"})
    assert ran.lines == ["host=db", "raw=$H"]
    ran = run("echo x > /etc/app/conf", readonly={"/etc/app": {"conf": "a=1\n"}})
    assert ran.lines == ["sh: can't create /etc/app/conf: Read-only file system"] and ran.code == 1
    ran = run("echo x > /etc/app/conf", base="debian", readonly={"/etc/app": {"conf": "a=1\n"}})
    assert ran.lines == ["sh: 1: cannot create /etc/app/conf: Read-only file system"]


def test_globs_match_mounted_files():
    ran = run(
        "for f in /etc/config/*.properties; do echo $f; done; echo /none/*",
        files={"/etc/config/game.properties": "", "/etc/config/ui.properties": "", "/etc/config/x.txt": ""},
    )
    assert ran.lines == ["/etc/config/game.properties", "/etc/config/ui.properties", "/none/*"]


def test_exit_with_a_bad_number_and_cd_to_nowhere():
    assert run("exit abc").lines == ["sh: exit: Illegal number: abc"]
    ran = run("cd /nope && echo no")
    assert ran.lines == ["sh: cd: can't cd to /nope: No such file or directory"]


def test_background_jobs_and_wait():
    ran = run("(sleep 5; echo late) & echo early; wait; echo done")
    assert ran.lines == ["early", "late", "done"] and ran.exit[0] == pytest.approx(1005.0, abs=0.1)


def test_a_long_loop_is_a_running_process_on_the_simulated_clock():
    ran = run("while true; do echo tick; sleep 10; done", until=35)
    assert ran.exit is None and ran.lines == ["tick"] * 4
    ran = run("while true; do :; done", until=5)
    assert ran.exit is None


def test_shells_read_scripts_from_files_and_stdin():
    ran = run(["sh", "/scripts/start.sh", "x"], files={"/scripts/start.sh": 'echo "arg=$1"; exit 5'})
    assert (ran.code, ran.lines) == (5, ["arg=x"])
    assert run(["sh", "/nope.sh"]).lines == ["sh: can't open '/nope.sh': No such file or directory"]
    assert run(["sh"]).code == 0
