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
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


def _can_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def _check_after_install() -> int:
    still = missing()
    if still:
        print("system-packages: installed, but still not found:\n" + missing_message(still), file=sys.stderr)
        return 2
    return 0


def _to_install() -> list[Program] | None:
    """What is missing ([] when nothing is); None, the message printed, when something is missing
    that cannot be installed here (not root, or no apt)."""
    absent = missing()
    if absent and not _can_install():
        print(missing_message(absent), file=sys.stderr)
        return None
    return absent


def main() -> int:
    """Check; install as root when something is missing; otherwise say what to install."""
    absent = _to_install()
    if not absent:
        return 0 if absent is not None else 2
    try:
        install(absent)
    except subprocess.CalledProcessError as exc:
        print(f"system-packages: apt-get failed ({exc.returncode})", file=sys.stderr)
        print(missing_message(absent), file=sys.stderr)
        return 2
    return _check_after_install()


# -- in the background (`make test`) -------------------------------------------------------------
# The files of one background install in its status directory: apt's output, then its exit status,
# written last (so `--wait` knows the install has ended, whatever it printed).
LOG, STATUS, PENDING = "system-packages.log", "system-packages.rc", "system-packages.pending"
WAIT_POLL_S = 0.5


def start(status_dir: Path) -> int:
    """Check at once; as root, start installing what is missing in the background and return 0.

    A missing program that cannot be installed here (not root, no apt) ends it with exit 2 and the
    message, before anything else runs, as `main` does. Nothing missing: nothing started."""
    status_dir.mkdir(parents=True, exist_ok=True)
    for name in (LOG, STATUS, PENDING):
        (status_dir / name).unlink(missing_ok=True)
    absent = _to_install()
    if not absent:
        return 0 if absent is not None else 2
    packages = " ".join(sorted({p.package for p in absent}))
    print(f"system-packages: installing {packages} with apt-get in the background ({status_dir / LOG})")
    with open(status_dir / LOG, "wb") as log:
        # Its own session: a Ctrl-C on make must not kill dpkg half-way through an install.
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--install-into", str(status_dir)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    (status_dir / PENDING).write_text(f"{packages}\n{getattr(child, 'pid', 0)}\n")
    return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def install_into(status_dir: Path) -> int:
    """The background half of `start`: install, then write the exit status where `wait` looks."""
    code = 2
    try:
        code = main()
    finally:
        tmp = status_dir / (STATUS + ".tmp")
        tmp.write_text(f"{code}\n")
        tmp.replace(status_dir / STATUS)  # whole or absent: `wait` never reads a half-written status
    return code


def wait(status_dir: Path, timeout_s: float = 1800.0) -> int:
    """Wait for the install `start` began (if any), then check: 0 when every program is there."""
    if (status_dir / PENDING).exists():
        packages, _, pid = (status_dir / PENDING).read_text().strip().partition("\n")
        deadline = time.monotonic() + timeout_s
        while not (status_dir / STATUS).exists():
            # An installer killed before it wrote its status would otherwise be waited for in vain.
            if time.monotonic() > deadline or (pid.isdigit() and int(pid) > 0 and not _alive(int(pid))):
                time.sleep(WAIT_POLL_S)  # it may have written the status just before it ended
                if not (status_dir / STATUS).exists():
                    print("system-packages: the background install ended without a status", file=sys.stderr)
                break
            time.sleep(WAIT_POLL_S)
        code = (status_dir / STATUS).read_text().strip() if (status_dir / STATUS).exists() else "?"
        (status_dir / PENDING).unlink()
        if code == "0":
            print(f"system-packages: installed {packages} ({status_dir / LOG})")
        else:
            log = status_dir / LOG
            print(log.read_text(errors="replace") if log.exists() else "", file=sys.stderr, end="")
    absent = missing()
    if absent:
        print(missing_message(absent), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] in ("--start", "--wait", "--install-into"):
        mode = {"--start": start, "--wait": wait, "--install-into": install_into}[sys.argv[1]]
        sys.exit(mode(Path(sys.argv[2])))
    if len(sys.argv) != 1:
        print("usage: system_packages.py [--start DIR | --wait DIR]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main())
