"""Discovery and OpenAPI documents, encoded once per registry generation.

Every kubectl process starts with discovery (and `apply` with OpenAPI); the documents only change
when a CRD adds or removes a type, so they are built and encoded once and served as bytes until then.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

import orjson

from sandbox.resources import Registry


class DocumentCache:
    """Encoded documents by key, dropped whenever the registry's served types change."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._generation = -1
        self._docs: dict[Hashable, bytes] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any | None]) -> bytes | None:
        """The document under `key`, from `build()` the first time in this generation; None (not
        cached: any path a client makes up would otherwise fill the cache) when `build` finds none."""
        with self._lock:
            # Read before building: a change while building leaves a generation behind, so the next
            # request rebuilds rather than serving a stale document.
            generation = self._registry.generation
            if generation != self._generation:
                self._docs.clear()
                self._generation = generation
            if key not in self._docs:
                doc = build()
                if doc is None:
                    return None
                self._docs[key] = orjson.dumps(doc)
            return self._docs[key]
