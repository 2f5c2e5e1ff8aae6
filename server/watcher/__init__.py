"""The watcher: Kubernetes watch streams -> anomaly detection -> storm folding -> incidents.

`Watcher(api_client, scope, on_incident, clock)` with `start()`/`stop()`; tell it when a run
ends with `run_finished(fingerprint)`.
"""

from server.watcher.detect import Detection, DetectPolicy, Finding
from server.watcher.fold import Folder, FoldStats, Outcome
from server.watcher.scope import Scope, WatchTarget, parse_watch
from server.watcher.streams import Backoff, ResourceStream, StreamSpec, StreamState
from server.watcher.watcher import Watcher, WatcherOptions, WatcherStats

__all__ = [
    "Backoff",
    "DetectPolicy",
    "Detection",
    "Finding",
    "FoldStats",
    "Folder",
    "Outcome",
    "ResourceStream",
    "Scope",
    "StreamSpec",
    "StreamState",
    "WatchTarget",
    "Watcher",
    "WatcherOptions",
    "WatcherStats",
    "parse_watch",
]
