"""Child processes forked from one warm Python (multiprocessing's forkserver), for tests whose
subject is another process: a second writer, a crash, a resume elsewhere.

Starting `python -c` per child cost a whole interpreter start-up plus the project's imports
(0.9 CPU-s for the run store, 2.5 for a checkpointed graph) every time. The forkserver is one
single-threaded Python per pytest worker that imports `PRELOAD` once; each child is a fork of it,
so it is a separate process with its own connections (the same concurrency) that starts warm.
Forking the pytest worker itself would be cheaper still but unsafe: it has threads.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

# What the children run: imported once in the forkserver, so every child inherits it. `__main__`
# too (the pytest script when not under xdist): each child would import it again otherwise.
PRELOAD = ["__main__", "tests.server.runstore.children", "tests.graph.checkpoint_children"]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


class Child:
    """One child process running `target(*args)`; `join` gives its exit code and any traceback."""

    def __init__(self, target: Callable[..., Any], *args: Any) -> None:
        self._errors, errors_in = _CONTEXT.Pipe(duplex=False)
        self.process = _CONTEXT.Process(target=_run, args=(errors_in, target, args), daemon=True)
        self.process.start()
        errors_in.close()  # the child holds the only writing end: EOF means it ended

    def join(self, timeout: float = 120) -> tuple[int | None, str]:
        """Wait for the child; its exit code (None if it outlived `timeout`, then it is killed) and
        the traceback of the exception it raised ('' if none)."""
        self.process.join(timeout)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(10)
            return None, "the child did not end in time"
        error = ""
        if self._errors.poll():
            with contextlib.suppress(EOFError):  # a hard exit (os._exit) sends nothing
                error = self._errors.recv()
        self._errors.close()
        return self.process.exitcode, error


def _run(errors: Connection, target: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        target(*args)
    except BaseException:  # reported to the parent, which asserts on it
        errors.send(traceback.format_exc())
        raise SystemExit(1) from None
