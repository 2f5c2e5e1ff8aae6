"""Child processes a test started (a server, a browser, a replica): one way to stop them."""

from __future__ import annotations

import subprocess


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Ask `proc` to stop (SIGTERM) and wait `timeout` seconds; kill it when it does not stop in time.

    A process that has already exited is left alone; either way it is reaped, so no zombie outlives the test.
    """
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait(timeout=10)
