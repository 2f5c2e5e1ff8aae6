"""Utilities: busybox and GNU wording, exit codes, and time spent on the simulated clock."""

import pytest

from tests.sandbox.shell.helpers import run


@pytest.mark.parametrize(
    ("base", "script", "lines", "code"),
    [
        ("busybox", "cat /nope", ["cat: can't open '/nope': No such file or directory"], 1),
        ("debian", "cat /nope", ["cat: /nope: No such file or directory"], 1),
        ("busybox", "ls /nope", ["ls: /nope: No such file or directory"], 1),
        ("debian", "ls /nope", ["ls: cannot access '/nope': No such file or directory"], 2),
        ("busybox", "mkdir /a/b", ["mkdir: can't create directory '/a/b': No such file or directory"], 1),
        ("debian", "mkdir /a/b", ["mkdir: cannot create directory '/a/b': No such file or directory"], 1),
        ("busybox", "sleep abc", ["sleep: invalid number 'abc'"], 1),
        (
            "debian",
            "sleep abc",
            ["sleep: invalid time interval 'abc'", "Try 'sleep --help' for more information."],
            1,
        ),
    ],
)
def test_errors_are_worded_like_busybox_or_coreutils(base, script, lines, code):
    ran = run(script, base=base)
    assert (ran.lines, ran.code) == (lines, code)


def test_sleep_suffixes_and_infinity_take_simulated_time():
    assert run("sleep 1m; echo done", until=120).exit[0] == pytest.approx(1060.0, abs=0.1)
    assert run("sleep infinity", until=10_000).exit is None


def test_text_filters():
    files = {"/data": "b 2\na 1\nb 2\nc 3\n"}
    assert run("sort /data | uniq", files=files).lines == ["a 1", "b 2", "c 3"]
    assert run("grep -c b /data; grep -q zz /data || echo none", files=files).lines == ["2", "none"]
    assert run("awk '{print $2}' /data | head -n 2", files=files).lines == ["2", "1"]
    assert run("cut -d' ' -f1 /data | tail -n 1; wc -l < /data", files=files).lines == ["c", "4"]
    assert run("echo hello | sed 's/l/L/g'; echo aGVsbG8= | base64 -d; echo", files=files).lines == [
        "heLLo",
        "hello",
    ]


def test_environment_and_identity():
    ran = run(
        "printenv APP_MODE; printenv NOPE || echo unset; hostname; env | grep APP", env={"APP_MODE": "prod"}
    )
    assert ran.lines == ["prod", "unset", "pod-1", "APP_MODE=prod"]
    assert run("env FOO=bar sh -c 'echo $FOO'").lines == ["bar"]


def test_timeout_kills_what_runs_too_long():
    assert run("timeout 2 sleep 10; echo $?").lines == ["143"]
    assert run("timeout 2 sleep 10; echo $?", base="debian").lines == ["124"]
    assert run("timeout 5 sleep 1; echo $?").lines == ["0"]


def test_tail_follows_a_file_other_jobs_write():
    ran = run(
        "(sleep 2; echo one >> /tmp/log; sleep 2; echo two >> /tmp/log) & touch /tmp/log; tail -f /tmp/log",
        until=10,
    )
    assert ran.exit is None and ran.lines == ["one", "two"]


def test_date_follows_the_simulated_clock():
    assert run("date +%s").lines == ["1000"]


def test_package_managers_install_programs_and_apt_needs_its_lists():
    ran = run("apk add --no-cache curl >/dev/null && curl -s http://nowhere; echo $?", base="alpine")
    assert ran.lines[-1] == "6"
    ran = run("apt-get install -y curl; echo $?", base="debian")
    assert ran.lines[-2:] == ["E: Unable to locate package curl", "100"]
    ran = run(
        "apt-get update >/dev/null && apt-get install -y curl >/dev/null && curl -s http://x; echo $?",
        base="debian",
    )
    assert ran.lines == ["6"]
    assert run("apk add curl", base="busybox").lines == ["sh: apk: not found"]
