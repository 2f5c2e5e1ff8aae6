"""The programs the test suite runs for real, where the tests find them, and how `make test` gets them.

The integration tests start real servers and tools: Prometheus, Alertmanager, headless Chromium,
kubectl and a throwaway PostgreSQL. None of them may be skipped when missing, so the suite checks
for them before it starts (`python3 tests/system_packages.py`, the Makefile's `system-packages`
target, run by `make test`):

- all found: nothing is printed and nothing is done (so the check is cheap and idempotent);
- some missing, running as root: their Debian packages are installed with apt, non-interactively;
- some missing, any other user: one message names the packages and the command that installs
  them, and the check exits 2 before anything else runs.

The fixtures find the programs through `find`, so the check and the tests always agree on
where a program is. This module is stdlib-only: it runs with the system `python3`, before the
project's virtualenv exists.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

# PostgreSQL's server programs: Debian keeps them off PATH, under a directory per major version.
POSTGRES_TOOLS = ("initdb", "pg_ctl", "postgres")
POSTGRES_DIRS = "/usr/lib/postgresql/*/bin"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "chromium-headless-shell")
APT_INSTALL = ("apt-get", "install", "-y", "-q", "--no-install-recommends")


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium() -> str | None:
    # An explicit binary wins, e.g. a Chromium that is not Debian's.
    return os.environ.get("PARAMEDIC_CHROMIUM") or _which(*CHROMIUM_NAMES)


def _postgres_bin_dir() -> str | None:
    """A directory holding initdb, pg_ctl and postgres: PATH first, then Debian's, newest first."""
    path_dirs = os.environ.get("PATH", "").split(os.pathsep)
    debian_dirs = sorted(glob.glob(POSTGRES_DIRS), key=_major_version, reverse=True)
    for directory in [*path_dirs, *debian_dirs]:
        if directory and all(os.access(os.path.join(directory, t), os.X_OK) for t in POSTGRES_TOOLS):
            return directory
    return None


def _major_version(bin_dir: str) -> int:
    version = os.path.basename(os.path.dirname(bin_dir))
    return int(version) if version.isdigit() else 0


@dataclass(frozen=True)
class Program:
    """A program some tests run, and the Debian package that ships it."""

    name: str
    package: str
    used_by: str
    locate: Callable[[], str | None]


PROGRAMS = (
    Program("prometheus", "prometheus", "the Prometheus integration tests", lambda: _which("prometheus")),
    Program("promtool", "prometheus", "the tests of deploy/'s alerting rules", lambda: _which("promtool")),
    Program(
        "prometheus-alertmanager",
        "prometheus-alertmanager",
        "the Alertmanager webhook test",
        lambda: _which("prometheus-alertmanager"),
    ),
    Program("chromium", "chromium", "the dashboard's browser tests", _chromium),
    # Debian's own kubernetes-client (1.20) is too old for deploy/'s kustomizations; the `kubectl`
    # package is the Kubernetes project's (its apt repository), already on this project's machines.
    Program(
        "kubectl", "kubectl", "the deploy/ renders and the sandbox's kubectl tests", lambda: _which("kubectl")
    ),
    Program(
        "postgres",
        "postgresql",
        "the PostgreSQL storage tests (initdb, pg_ctl and postgres, in one directory)",
        _postgres_bin_dir,
    ),
)
_BY_NAME = {program.name: program for program in PROGRAMS}


def find(name: str) -> str | None:
    """Where program `name` is (for PostgreSQL: the directory of its server programs), or None."""
    return _BY_NAME[name].locate()


def require(name: str) -> str:
    """Where program `name` is; fails the calling test, naming the package to install, when absent."""
    found = find(name)
    if found is None:
        import pytest  # only the tests call this; the check runs without pytest

        pytest.fail(
            f"{missing_message([_BY_NAME[name]])}\n(`make test` checks this before the suite starts.)"
        )
    return found


def missing_message(programs: list[Program]) -> str:
    """One message naming what is missing and the one command that installs it."""
    packages = " ".join(sorted({p.package for p in programs}))
    lines = ["The test suite runs these programs for real, and this machine lacks them:"]
    lines += [f"  - {p.name} (Debian package {p.package}): {p.used_by}" for p in programs]
    lines += [
        "Install them (as root; `make test` does it by itself when run as root):",
        f"  sudo sh -c 'apt-get update && DEBIAN_FRONTEND=noninteractive {' '.join(APT_INSTALL)} {packages}'",
    ]
    return "\n".join(lines)


def missing() -> list[Program]:
    """The programs not found on this machine."""
    return [program for program in PROGRAMS if program.locate() is None]


def install(programs: list[Program]) -> None:
    """apt-get update, then install the packages of `programs` without questions."""
    packages = sorted({p.package for p in programs})
    print(f"system-packages: installing {' '.join(packages)} with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
    subprocess.run([*APT_INSTALL, *packages], check=True, env=env)


def main() -> int:
    """Check; install as root when something is missing; otherwise say what to install."""
    absent = missing()
    if not absent:
        return 0
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        print(missing_message(absent), file=sys.stderr)
        return 2
    try:
        install(absent)
    except subprocess.CalledProcessError as exc:
        print(f"system-packages: apt-get failed ({exc.returncode})", file=sys.stderr)
        print(missing_message(absent), file=sys.stderr)
        return 2
    still = missing()
    if still:
        print("system-packages: installed, but still not found:\n" + missing_message(still), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
