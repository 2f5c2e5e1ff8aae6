"""Memory: programs that allocate reach the limit and are OOM-killed at the moment they cross it."""

from typing import Any

import pytest

from tests.sandbox.shell.helpers import MI, Ran, run


def test_tail_dev_zero_is_oom_killed_almost_at_once():
    ran = run("echo start; tail /dev/zero", limit=64 * MI)
    assert ran.exit[1:] == (137, "OOMKilled") and ran.exit[0] - 1000 < 1.0 and ran.lines == ["start"]
    assert run("cat /dev/zero | head -c 10M | tail > /dev/null; echo survived", limit=64 * MI).lines == [
        "survived"
    ]


def _under_100mi(tool: str, *args: str, **kw: Any) -> Ran:
    """`tool args` on an alpine image that ships `tool`, under a 100Mi memory limit."""
    return run([tool, *args], base="alpine", extra=frozenset({tool}), limit=100 * MI, **kw)


def test_stress_over_the_limit_is_killed_and_under_it_runs():
    over = _under_100mi("stress", "--vm", "1", "--vm-bytes", "250M", "--vm-hang", "1")
    assert over.exit[1:] == (137, "OOMKilled")
    assert over.lines == ["stress: info: [1] dispatching hogs: 0 cpu, 0 io, 1 vm, 0 hdd"]
    under = _under_100mi("stress", "--vm", "1", "--vm-bytes", "50M", until=600)
    assert under.exit is None and under.proc.working_set(1500) == pytest.approx(51 * MI, rel=0.05)
    timed = _under_100mi("stress-ng", "--vm", "1", "--vm-bytes", "32M", "--timeout", "10s")
    assert timed.exit[1:] == (0, "Completed")


def test_dd_block_buffers_and_memory_backed_files_count():
    assert run("dd if=/dev/zero of=/dev/null bs=1G count=1", limit=256 * MI).exit[1:] == (137, "OOMKilled")
    ran = run("dd if=/dev/zero of=/dev/shm/fill bs=1M count=200; echo $?", limit=1024 * MI)
    assert ran.lines[-2:] == ["dd: error writing '/dev/shm/fill': No space left on device", "1"]
    assert run("dd if=/dev/zero of=/tmp/f bs=1M count=10 2>/dev/null; echo ok", limit=64 * MI).lines == ["ok"]


def test_a_program_that_needs_more_than_the_limit_to_start_is_killed_at_once():
    from tests.sandbox.shell.helpers import container

    c = container(limit=4 * MI)
    c.proc.baseline = 8 * MI
    ran = run("echo never; sleep 5", c=c)
    assert ran.exit[1:] == (137, "OOMKilled") and ran.exit[0] == 1000.3 and ran.lines == ["never"]
