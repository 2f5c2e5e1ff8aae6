"""The real kubectl against a sandbox: one runner for the kubectl, verbs and fidelity tests."""

from __future__ import annotations

import os
import subprocess

from sandbox.cluster import Sandbox
from tests import system_packages

# Go's collector at its default pace runs several times while kubectl starts (it builds its type
# registries then): a quarter of a short kubectl run's CPU. Collecting 4x less often costs a few MB
# of a process that lives a fraction of a second; what kubectl does is unchanged.
GO_ENV = {"GOGC": "400"}


def run_kubectl(
    sb: Sandbox, *args: str, stdin: str | None = None, timeout: float = 120, check: bool = False
) -> subprocess.CompletedProcess[str]:
    """Run `kubectl <args>` with the sandbox's kubeconfig; `check` fails the test on a non-zero exit.

    Missing, kubectl fails the test naming the package (`make test` installs it).
    """
    proc = subprocess.run(
        [system_packages.require("kubectl"), "--kubeconfig", str(sb.kubeconfig_path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
        check=False,
        env={**os.environ, **GO_ENV},  # read now: the session sets KUBECACHEDIR after imports
    )
    if check:
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
    return proc
