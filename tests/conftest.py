"""Fixtures shared across test packages: a throwaway PostgreSQL server.

`postgres_server` starts one server per test session (per xdist worker) from the PostgreSQL
binaries on this machine, on 127.0.0.1 and a free port, and removes it afterwards;
`postgres_url` is a database on it for the session, `fresh_postgres_url` a new, empty
database per test. Missing PostgreSQL binaries fail the tests that need them, naming the
package (`make test` installs it first: tests/system_packages.py).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests import system_packages
from tests.ports import free_port

# The order xdist workers run the tests in (long ones first, spread over the workers), and the
# garbage collector kept off what lives as long as the process.
pytest_plugins = ("tests.xdist_order", "tests.collector")

_database_numbers = itertools.count(1)


@dataclass(frozen=True)
class PostgresServer:
    """A running throwaway server; `url(db)` is a libpq URL for one of its databases."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _as_server_user() -> tuple[list[str], Callable[[Path], None]]:
    """PostgreSQL refuses to run as root: under root, run its tools as the `postgres` user."""
    if os.geteuid() != 0:
        return [], lambda _path: None
    try:
        import pwd

        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root and there is no 'postgres' user to run PostgreSQL as (the Debian "
            "package postgresql creates it)"
        )

    def give(path: Path) -> None:
        os.chown(path, entry.pw_uid, entry.pw_gid)

    return ["runuser", "-u", "postgres", "--"], give


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for this test session, stopped and deleted afterwards."""
    bin_dir = Path(system_packages.require("postgres"))
    prefix, give = _as_server_user()
    # Not under pytest's tmp_path: its parents are private to root and the server user needs access.
    root = Path(tempfile.mkdtemp(prefix="paramedic-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    for path in (root, sockets):
        give(path)
    port = free_port()
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data)]
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--encoding=UTF8", "--no-locale", "--no-sync"], "initdb")  # fmt: skip
        options = f"-k {sockets} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        _run([*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", options, "start"], "pg_ctl start")
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        server_log = log.read_text(errors="replace") if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc}\n{server_log}")
    try:
        yield PostgresServer(host="127.0.0.1", port=port, user="postgres")
    finally:
        subprocess.run([*pg_ctl, "-m", "fast", "-w", "stop"], capture_output=True, timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


def _create_database(server: PostgresServer, name: str) -> str:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server.url(name)


def _drop_database(server: PostgresServer, name: str) -> None:
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """A `postgresql://` URL of a database shared by the whole session."""
    return _create_database(postgres_server, "paramedic_session")


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A `postgresql://` URL of a new, empty database, dropped after the test."""
    name = f"paramedic_test_{os.getpid()}_{next(_database_numbers)}"
    url = _create_database(postgres_server, name)
    try:
        yield url
    finally:
        _drop_database(postgres_server, name)


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage backend in turn: a fresh SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'data' / 'paramedic.db').as_posix()}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture(scope="session", autouse=True)
def kubectl_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """kubectl's discovery cache in the session's temp dir: every sandbox serves on a new port,
    so each kubectl run against one adds a directory under ~/.kube/cache that nothing reuses
    (700 MB after a few days of test runs). Child processes (kubectl, `paramedic`) inherit it."""
    cache = tmp_path_factory.mktemp("kubectl-cache")
    previous = os.environ.get("KUBECACHEDIR")
    os.environ["KUBECACHEDIR"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("KUBECACHEDIR", None)
    else:
        os.environ["KUBECACHEDIR"] = previous


# -- the `process` marker ----------------------------------------------------------------------
# A test marked `process` starts a program of its own (kubectl, Prometheus, Alertmanager,
# Chromium, promtool, lint-imports, a Python interpreter): seconds of CPU that `make test-fast`
# leaves out (docs/testing.md). Git and the worker's one PostgreSQL server do not count, nor the
# session's `kubectl kustomize` renders of deploy/. A test module marks the tests whose own code
# starts programs; the tests that use a fixture starting one are marked here, from the fixture.
PROGRAM_FIXTURES = frozenset(
    {
        "prometheus",  # tests/tools/conftest.py: a real Prometheus server
        "prometheus_factory",
        "alertmanager",  # tests/server/alerts/test_live_alertmanager.py
        "browser",  # tests/server/dashboard/test_browser.py: headless Chromium
    }
)
# Programs that do not make a test `process`: cheap (git), or started once per worker.
_NOT_OWN_PROGRAMS = frozenset({"git", "runuser", "initdb", "pg_ctl", "postgres", "createdb"})


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects: the marker must be there to be seen
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `process` every test that uses a fixture starting a program."""
    for item in items:
        used = PROGRAM_FIXTURES & set(getattr(item, "fixturenames", ()))
        # A parametrize argument of the same name (test_guard's `browser`) is a value, not the fixture.
        callspec = getattr(item, "callspec", None)
        if used - set(callspec.params if callspec is not None else ()):
            item.add_marker(pytest.mark.process)


def _fail_unmarked_programs(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test if it starts a program of its own without being marked `process` (or `slow`,
    `e2e`), naming the programs."""
    started: list[str] = []
    original = subprocess.Popen.__init__

    def spy(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        program = args if isinstance(args, str | bytes | os.PathLike) else args[0]
        name = Path(os.fsdecode(program).split()[0]).name
        if name not in _NOT_OWN_PROGRAMS:
            started.append(name)
        original(self, args, *rest, **kwargs)

    monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(subprocess.Popen, "__init__", spy)
    yield
    if started and not any(request.node.get_closest_marker(m) for m in ("process", "slow", "e2e")):
        pytest.fail(f"started {sorted(set(started))} but is not marked process (tests/conftest.py)")


# With PARAMEDIC_CHECK_PROCESS_MARKER=1, every test runs under `_fail_unmarked_programs`. Off by
# default: it is how the marker was assigned, and how to check it after adding tests
# (`PARAMEDIC_CHECK_PROCESS_MARKER=1 make test-fast`). The fixture exists only when the check is on:
# an autouse fixture costs each of the suite's 3,000 tests a setup and a teardown even when it does
# nothing (0.55 ms a test, 1.8 CPU-s a run).
if os.environ.get("PARAMEDIC_CHECK_PROCESS_MARKER") == "1":

    @pytest.fixture(autouse=True)
    def _check_process_marker(request: pytest.FixtureRequest) -> Iterator[None]:
        """The process-marker check around one test."""
        yield from _fail_unmarked_programs(request)
