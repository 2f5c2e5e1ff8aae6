"""When the eval agent may call a scenario's cluster quiet: only once its watcher has caught up.

The eval agent stops after a quiet window in simulated time. Simulated time runs at a fixed
factor of wall time whatever the machine's load, while the watcher runs in wall time: under CPU
load it could still be listing, or a stream could be seconds behind, when the window ran out,
and the agent would stop before any incident was opened. So the window only counts while the
watcher has demonstrably seen everything there is to see:

- every stream has listed (or found its resource not served), and has delivered every change of
  the objects it watches (its resourceVersion is at least the newest resourceVersion among
  those objects, listed afresh from the API server);
- nothing waits for the dispatcher and no recheck is due but undone (`Watcher.backlog`);
- no incident went to the run service since the last look (the dispatch counter did not move).

Whenever one of these fails, the quiet window starts again. A slow watcher therefore delays
the decision instead of cutting it short.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from server.watcher import Watcher
from server.watcher.streams import StreamSpec

log = logging.getLogger(__name__)


def _version(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def newest_version(spec: StreamSpec, timeout: float = 10.0) -> int | None:
    """The highest resourceVersion among the objects a stream watches (0 when there are none), listed
    afresh; None when it cannot be told (a non-numeric version, a failed list)."""
    try:
        response = spec.list_fn(*spec.args, _preload_content=False, _request_timeout=timeout)
        body = json.loads(response.data)
    except Exception as exc:  # the next look tries again; until then the watcher counts as behind
        log.debug("listing %s failed: %s", spec.name, exc)
        return None
    versions = [
        _version((item.get("metadata") or {}).get("resourceVersion"))
        for item in body.get("items") or []
        if isinstance(item, dict)
    ]
    if any(v is None for v in versions):
        return None
    return max((v for v in versions if v is not None), default=0)


class WatcherProgress:
    """Tells whether a watcher is behind the cluster it watches (see the module docstring)."""

    def __init__(self, watcher: Watcher) -> None:
        self._watcher = watcher
        self._specs = {spec.name: spec for spec in watcher.stream_specs()}
        self._dispatched: int | None = None

    def behind(self) -> str | None:
        """Why the watcher has not caught up (None when it has)."""
        stats = self._watcher.stats()
        dispatched, self._dispatched = self._dispatched, stats.fold.dispatched
        if dispatched is not None and dispatched != stats.fold.dispatched:
            return "an incident was just dispatched"
        backlog = self._watcher.backlog()
        if backlog:
            return f"{backlog} incident(s) or recheck(s) wait for the watcher"
        for state in stats.streams:
            if state.available is False:
                continue  # a custom resource this cluster does not serve
            seen = _version(state.resource_version)
            if state.lists == 0 or seen is None:
                return f"stream {state.name} has not listed yet"
            spec = self._specs.get(state.name)
            newest = newest_version(spec) if spec is not None else None
            if newest is None:
                return f"stream {state.name}: the cluster's newest version is unknown"
            if newest > seen:
                return f"stream {state.name} is at {seen}, the cluster at {newest}"
        return None
