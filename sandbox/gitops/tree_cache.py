"""What the manifest repository read at a commit, kept: a full commit sha names its tree for good.

The sync loop and the fault injector read the same head, and a commit made through the repository
knows its files from its parent's and its changes, so neither needs git again. Only plain folders are
kept (a pathspec with magic, globs or dots is git's to match), a few (revision, folder) reads at most.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping

_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._-]+")
KEPT = 8  # (revision, folder) reads; a sandbox reads one or two folders of a few heads

Key = tuple[str, str]  # (commit sha, folder prefix: "" or "dir/")


class TreeCache:
    """Files (path -> content) read at full commit shas, by folder; safe across threads."""

    def __init__(self, kept: int = KEPT) -> None:
        self._kept = kept
        self._lock = threading.Lock()
        self._files: OrderedDict[Key, dict[str, bytes]] = OrderedDict()

    @staticmethod
    def key(revision: str, under: str) -> Key | None:
        """The key of a read of `under` at `revision`, or None when it must not be kept."""
        folder = under.rstrip("/")
        parts = folder.split("/") if folder else []
        if not _SHA.fullmatch(revision) or not all(
            _PLAIN_NAME.fullmatch(p) and p not in (".", "..") for p in parts
        ):
            return None  # a ref moves; a pathspec with magic, globs or dots is git's to match
        return revision, f"{folder}/" if folder else ""

    def get(self, key: Key) -> dict[str, bytes] | None:
        """A copy of the files kept under `key`, or None."""
        with self._lock:
            files = self._files.get(key)
            return None if files is None else dict(files)

    def put(self, key: Key, files: Mapping[str, bytes]) -> None:
        """Keep a copy of `files` under `key` (the oldest read goes past `kept`)."""
        with self._lock:
            self._files[key] = dict(files)
            self._files.move_to_end(key)
            while len(self._files) > self._kept:
                self._files.popitem(last=False)

    def file(self, revision: str, path: str) -> bytes | None:
        """`path`'s content at `revision` when a kept read holds it (absence is git's to say)."""
        with self._lock:
            for (rev, prefix), files in self._files.items():
                if rev == revision and path.startswith(prefix) and path in files:
                    return files[path]
        return None

    def carry_over(self, old: str, new: str, changes: Mapping[str, bytes | None]) -> None:
        """Keep `new`'s files, derived from `old`'s kept reads and the changes (None deletes) that
        made `new` from `old`."""
        with self._lock:
            derived = []
            for (rev, prefix), files in self._files.items():
                if rev != old:
                    continue
                after = dict(files)
                for path, data in changes.items():
                    if not path.startswith(prefix):
                        continue
                    if data is None:
                        after.pop(path, None)
                    else:
                        after[path] = data
                derived.append(((new, prefix), after))
        for key, files in derived:
            self.put(key, files)
