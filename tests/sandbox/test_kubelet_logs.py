"""Container logs: independent of when they are read, and errors worded like kube-apiserver."""

import pytest

from sandbox.logs import LogStore, Mode
from sandbox.store import ApiError


def _run(reads):
    now = [1000.0]
    store = LogStore(lambda: now[0], seed=3)
    store.register_pod("ns", "p", ["c"])
    log = store.start("ns", "p", "c", 0, "uvicorn", 1000.0)
    log.quiet_until = 1001.0  # no access lines before the program listens
    log.add(1000.5, "startup line")
    log.set_mode(1000.0, Mode(rate=1.0, error_rate=0.0))
    out = []
    for t in reads:
        now[0] = t
        if t == 1100.0:
            log.set_mode(t, Mode(rate=1.0, error_rate=1.0, error="boom"))
        out = store.read("ns", "p", "c")
    return [text for _, text in out]


def test_lines_do_not_depend_on_when_they_were_read():
    once = _run([1100.0, 1200.0])
    often = _run([1010.0, 1033.3, 1100.0, 1150.0, 1199.9, 1200.0])
    assert once == often
    assert once[0] == "startup line"
    assert any(" 200 OK" in line for line in once)
    assert any("request failed: boom" in line for line in once)
    # Errors only after the mode switched at t=1100.
    first_error = next(i for i, line in enumerate(once) if "boom" in line)
    assert all(" 200 OK" not in line for line in once[first_error:])


def test_previous_is_the_last_terminated_instance_only():
    now = [0.0]
    store = LogStore(lambda: now[0])
    for n in range(3):
        log = store.start("ns", "p", "c", n, "shell", float(n))
        log.add(float(n), f"instance {n}")
        log.finish(float(n) + 0.5)
    now[0] = 5.0
    assert [t for _, t in store.read("ns", "p", "c", previous=True)] == ["instance 1"]
    assert [t for _, t in store.read("ns", "p", "c")] == ["instance 2"]


def test_read_errors():
    store = LogStore(lambda: 0.0)
    with pytest.raises(ApiError, match="pod p does not have a host assigned"):
        store.read("ns", "p", "c")
    store.register_pod("ns", "p", ["a", "b"])
    with pytest.raises(
        ApiError, match=r"a container name must be specified for pod p, choose one of: \[a b\]"
    ):
        store.read("ns", "p")
    with pytest.raises(ApiError, match="container x is not valid for pod p"):
        store.read("ns", "p", "x")
    with pytest.raises(ApiError, match='container "a" in pod "p" is waiting to start: ContainerCreating'):
        store.read("ns", "p", "a")
