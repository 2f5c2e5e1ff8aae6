"""The real kubectl against a sandbox: one runner for the kubectl, verbs and fidelity tests."""

from __future__ import annotations

import subprocess

from sandbox.cluster import Sandbox
from tests import system_packages


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
    )
    if check:
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
    return proc
