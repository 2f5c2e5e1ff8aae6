"""The sandbox's sample GitOps repository, made once per test process and copied into work dirs.

A fresh sandbox creates the same repository every time (the same sample files, author and
simulated date, so the same commit) with three git processes: `init`, `add`, `commit`.
A sandbox started on a work dir that already holds the repository deploys it as it stands
(`Sandbox._start`), so the tests that start a sandbox per case copy it in (`seeded`).
tests/evals/test_dataset.py checks that a seeded sandbox deploys the commit a fresh one makes.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

from sandbox.cluster import Sandbox


@cache
def _template() -> Path:
    root = Path(tempfile.mkdtemp(prefix="paramedic-sample-repo-"))
    atexit.register(shutil.rmtree, root, True)
    Sandbox(workdir=root, background=False, serve=False).start().stop()  # a given work dir is kept
    return root / "gitops"


def seeded(workdir: Path) -> Path:
    """`workdir` (created) holding a copy of the sandbox's sample GitOps repository; returns it.
    Git's sample hooks are left out: they are inert files."""
    shutil.copytree(_template(), workdir / "gitops", symlinks=True, ignore=shutil.ignore_patterns("*.sample"))
    return workdir
