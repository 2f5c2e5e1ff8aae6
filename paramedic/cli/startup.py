"""The garbage collector around a long-running command's start-up.

Importing the service's stack (LangGraph, LangChain, the Kubernetes client's generated models,
FastAPI) builds a few hundred thousand objects that live as long as the process; the collector's
passes over them while they are being built find nothing to free, and cost about a second of CPU
per start. So the collector is off while a start-up runs and what it built is frozen afterwards
(`gc.freeze`: left out of every later collection), as CPython's documentation suggests for
long-lived processes. The collector is on again as soon as the start-up ends, however it ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block with the collector off, then switch it back on and freeze what the block built."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        gc.freeze()
